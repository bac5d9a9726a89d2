//! A FITS binary-table writer (FITS Standard 4.0, §4 headers, §7.3 BINTABLE): an empty
//! primary HDU carrying provenance keywords, then one BINTABLE whose rows are appended as they
//! come. Headers are 80-character ASCII cards in 2880-byte blocks; table values are
//! big-endian; the row count (`NAXIS2`) is patched in place when the table is finished.
//! `fitsrs`, the reader zcnn uses, does not write; this small writer covers what the
//! catalogues need: `K` (i64), `J` (i32), `E` (f32), `D` (f64), `rA` (text) and `rE` (f32
//! vectors) columns.

use super::atomic::StagedPath;
use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::Path;

/// Bytes in a FITS block.
const BLOCK: usize = 2880;
/// Bytes in a header card.
const CARD: usize = 80;

/// A header keyword's value.
#[derive(Clone, Debug, PartialEq)]
pub enum CardValue {
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

/// A header card: keyword (≤ 8 characters: A–Z, 0–9, `-`, `_`), value and comment.
#[derive(Clone, Debug, PartialEq)]
pub struct Card {
    pub key: String,
    pub value: CardValue,
    pub comment: String,
}

impl Card {
    pub fn new(key: &str, value: CardValue, comment: &str) -> Self {
        Self {
            key: key.to_string(),
            value,
            comment: comment.to_string(),
        }
    }
}

/// The type of a table column.
#[derive(Clone, Debug, PartialEq)]
pub enum ColumnType {
    I64,
    I32,
    F32,
    F64,
    /// Fixed-width ASCII text (space-padded).
    Text(usize),
    /// A fixed-length vector of f32.
    F32Vector(usize),
}

impl ColumnType {
    /// `TFORMn` (§7.3.1, Table 18).
    fn tform(&self) -> String {
        match self {
            Self::I64 => "K".into(),
            Self::I32 => "J".into(),
            Self::F32 => "E".into(),
            Self::F64 => "D".into(),
            Self::Text(width) => format!("{width}A"),
            Self::F32Vector(n) => format!("{n}E"),
        }
    }

    fn bytes(&self) -> usize {
        match self {
            Self::I64 | Self::F64 => 8,
            Self::I32 | Self::F32 => 4,
            Self::Text(width) => *width,
            Self::F32Vector(n) => 4 * n,
        }
    }
}

/// A column: name (`TTYPEn`), type, unit (`TUNITn`, none when dimensionless) and description
/// (the `TTYPEn` comment).
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    pub name: String,
    pub kind: ColumnType,
    pub unit: Option<String>,
    pub description: String,
}

/// One value of a row, in column order.
#[derive(Clone, Debug, PartialEq)]
pub enum Value<'a> {
    I64(i64),
    I32(i32),
    F32(f32),
    F64(f64),
    Text(&'a str),
    F32s(&'a [f32]),
}

/// A FITS file with one binary table, written row by row under a temporary name, completed by
/// [`BinTableWriter::finish`] and renamed into place by the commit of the [`StagedPath`] it
/// returns. Dropped before, it removes the temporary file.
pub struct BinTableWriter {
    out: BufWriter<File>,
    staged: StagedPath,
    columns: Vec<Column>,
    row: Vec<u8>,
    rows: u64,
    /// Byte offset of the `NAXIS2` card, rewritten by `finish`.
    naxis2_at: u64,
    data_start: u64,
}

impl BinTableWriter {
    /// Creates `path` (under a temporary name until the commit) with an empty
    /// primary HDU holding `primary` cards, and a BINTABLE named `extname` with `columns` and
    /// `table` cards.
    pub fn create(
        path: &Path,
        primary: &[Card],
        extname: &str,
        columns: Vec<Column>,
        table: &[Card],
    ) -> Result<Self, String> {
        let staged = StagedPath::new(path);
        let file = staged.create().map_err(|e| e.0)?;
        let mut header = Vec::new();
        let start = [
            Card::new("SIMPLE", CardValue::Bool(true), "conforms to FITS standard"),
            Card::new("BITPIX", CardValue::Int(8), ""),
            Card::new("NAXIS", CardValue::Int(0), "no data in the primary HDU"),
            Card::new("EXTEND", CardValue::Bool(true), ""),
        ];
        for card in start.iter().chain(primary) {
            header.extend(format_card(card)?);
        }
        end_header(&mut header);
        let row_bytes: usize = columns.iter().map(|c| c.kind.bytes()).sum();
        let mut cards = vec![
            Card::new(
                "XTENSION",
                CardValue::Text("BINTABLE".into()),
                "binary table",
            ),
            Card::new("BITPIX", CardValue::Int(8), ""),
            Card::new("NAXIS", CardValue::Int(2), ""),
            Card::new("NAXIS1", CardValue::Int(row_bytes as i64), "bytes per row"),
        ];
        let naxis2_at = (header.len() + cards.len() * CARD) as u64;
        cards.extend([
            Card::new("NAXIS2", CardValue::Int(0), "rows"),
            Card::new("PCOUNT", CardValue::Int(0), ""),
            Card::new("GCOUNT", CardValue::Int(1), ""),
            Card::new("TFIELDS", CardValue::Int(columns.len() as i64), "columns"),
        ]);
        for (i, c) in columns.iter().enumerate() {
            let n = i + 1;
            cards.push(Card::new(
                &format!("TTYPE{n}"),
                CardValue::Text(c.name.clone()),
                &c.description,
            ));
            cards.push(Card::new(
                &format!("TFORM{n}"),
                CardValue::Text(c.kind.tform()),
                "",
            ));
            if let Some(unit) = &c.unit {
                cards.push(Card::new(
                    &format!("TUNIT{n}"),
                    CardValue::Text(unit.clone()),
                    "",
                ));
            }
        }
        cards.push(Card::new("EXTNAME", CardValue::Text(extname.into()), ""));
        cards.extend_from_slice(table);
        for card in &cards {
            header.extend(format_card(card)?);
        }
        end_header(&mut header);
        let mut out = BufWriter::new(file);
        out.write_all(&header)
            .map_err(|e| format!("cannot write {}: {e}", staged.temporary().display()))?;
        Ok(Self {
            out,
            staged,
            columns,
            row: Vec::with_capacity(row_bytes),
            rows: 0,
            naxis2_at,
            data_start: header.len() as u64,
        })
    }

    /// Appends one row; `values` must match the columns in number, order and type.
    pub fn append(&mut self, values: &[Value]) -> Result<(), String> {
        if values.len() != self.columns.len() {
            return Err(format!(
                "FITS row {}: {} values for {} columns",
                self.rows,
                values.len(),
                self.columns.len()
            ));
        }
        self.row.clear();
        for (column, value) in self.columns.iter().zip(values) {
            encode(&mut self.row, column, value)
                .map_err(|e| format!("FITS row {}, column {}: {e}", self.rows, column.name))?;
        }
        self.out
            .write_all(&self.row)
            .map_err(|e| self.io_error(e))?;
        self.rows += 1;
        Ok(())
    }

    /// Pads the data to whole blocks, writes the row count and syncs the file, still under its
    /// temporary name: the caller moves it into place with [`StagedPath::commit`] (after the
    /// other outputs of the run are complete too).
    pub fn finish(mut self) -> Result<StagedPath, String> {
        let data_bytes =
            self.out.stream_position().map_err(|e| self.io_error(e))? - self.data_start;
        let padding = (BLOCK as u64 - data_bytes % BLOCK as u64) % BLOCK as u64;
        self.out
            .write_all(&vec![0u8; padding as usize])
            .map_err(|e| self.io_error(e))?;
        let naxis2 = format_card(&Card::new(
            "NAXIS2",
            CardValue::Int(self.rows as i64),
            "rows",
        ))?;
        self.out
            .seek(SeekFrom::Start(self.naxis2_at))
            .and_then(|_| self.out.write_all(&naxis2))
            .and_then(|()| self.out.flush())
            .and_then(|()| self.out.get_ref().sync_all())
            .map_err(|e| self.io_error(e))?;
        Ok(self.staged)
    }

    /// Rows appended so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    fn io_error(&self, e: std::io::Error) -> String {
        format!("cannot write {}: {e}", self.staged.path().display())
    }
}

/// Appends the big-endian bytes of `value` for `column`.
fn encode(row: &mut Vec<u8>, column: &Column, value: &Value) -> Result<(), String> {
    match (&column.kind, value) {
        (ColumnType::I64, Value::I64(v)) => row.extend(v.to_be_bytes()),
        (ColumnType::I32, Value::I32(v)) => row.extend(v.to_be_bytes()),
        (ColumnType::F32, Value::F32(v)) => row.extend(v.to_be_bytes()),
        (ColumnType::F64, Value::F64(v)) => row.extend(v.to_be_bytes()),
        (ColumnType::Text(width), Value::Text(s)) => {
            if s.len() > *width || !s.is_ascii() {
                return Err(format!("'{s}' is not ASCII of at most {width} bytes"));
            }
            row.extend(s.as_bytes());
            row.extend(std::iter::repeat_n(b' ', width - s.len()));
        }
        (ColumnType::F32Vector(n), Value::F32s(v)) => {
            if v.len() != *n {
                return Err(format!("{} values for a vector of {n}", v.len()));
            }
            v.iter().for_each(|x| row.extend(x.to_be_bytes()));
        }
        (kind, value) => return Err(format!("{value:?} does not fit a {kind:?} column")),
    }
    Ok(())
}

/// Appends the `END` card and pads the header with spaces to whole blocks.
fn end_header(header: &mut Vec<u8>) {
    header.extend(format!("{:<80}", "END").bytes());
    let padded = header.len().div_ceil(BLOCK) * BLOCK;
    header.resize(padded, b' ');
}

/// One 80-byte card in fixed format (§4.2): the keyword in columns 1–8, `= ` in 9–10, a
/// number or logical right-justified to column 30, a string quoted from column 11 (quotes
/// doubled, at least 8 characters inside), then ` / comment`, cut at 80 columns.
pub fn format_card(card: &Card) -> Result<[u8; CARD], String> {
    let key_ok = !card.key.is_empty()
        && card.key.len() <= 8
        && card
            .key
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if !key_ok {
        return Err(format!(
            "FITS keyword '{}': 1–8 characters of A–Z 0–9 - _",
            card.key
        ));
    }
    let value = match &card.value {
        CardValue::Text(s) => {
            if !s.bytes().all(|b| (b' '..=b'~').contains(&b)) {
                return Err(format!(
                    "FITS keyword {}: value '{s}' is not printable ASCII",
                    card.key
                ));
            }
            format!("'{:<8}'", s.replace('\'', "''"))
        }
        CardValue::Int(v) => format!("{v:>20}"),
        CardValue::Float(v) => {
            if !v.is_finite() {
                return Err(format!(
                    "FITS keyword {}: value {v} is not finite",
                    card.key
                ));
            }
            // Shortest round-trip digits, upper-case exponent: `1.8E0`, `3E-3`.
            format!("{:>20}", format!("{v:E}"))
        }
        CardValue::Bool(b) => format!("{:>20}", if *b { "T" } else { "F" }),
    };
    let mut text = format!("{:<8}= {value}", card.key);
    if text.len() > CARD {
        return Err(format!(
            "FITS keyword {}: value too long for one card",
            card.key
        ));
    }
    if !card.comment.is_empty() {
        text.push_str(" / ");
        text.push_str(&card.comment);
    }
    let mut bytes = [b' '; CARD];
    let kept = text.len().min(CARD);
    if !text.is_ascii() {
        return Err(format!("FITS keyword {}: comment is not ASCII", card.key));
    }
    bytes[..kept].copy_from_slice(&text.as_bytes()[..kept]);
    Ok(bytes)
}

#[cfg(test)]
mod tests;
