//! A structural check of a FITS file before fitsrs sees it.
//!
//! fitsrs 0.4.1 trusts its input in places: a string value made of a lone quote (`KEY = '`)
//! slices out of bounds, sizes are multiplied without overflow checks, `ZNAXIS` and `TFIELDS`
//! size allocations and loops, and a `TFORMn` it cannot parse is silently dropped (which shifts
//! every later column). This walk reads the same 80-byte cards with fitsrs' own card parser
//! and refuses, with a message naming the HDU and the keyword, whatever would reach one of
//! those paths: after it passes, every HDU header is complete, its mandatory keywords are in
//! range and its data unit lies inside the file.
//!
//! Layout (FITS 4.0, §3–§7): each HDU is a header of 80-byte cards ending with `END`, padded to
//! a multiple of 2880 bytes, then a data unit of |BITPIX|/8 · NAXIS1 · … · NAXISn bytes
//! (binary table: NAXIS1 · NAXIS2 + PCOUNT; fitsrs skips no PCOUNT after an ASCII table, and
//! this walk follows it), padded likewise.

use fitsrs::card::{split_value_and_comment, Card, Value};
use std::collections::HashMap;

const CARD: usize = 80;
const BLOCK: usize = 2880;
/// The largest NAXIS, TFIELDS and ZNAXIS the standard allows.
const MAX_INDEX: i64 = 999;

/// Checks every HDU of `bytes`; the error names the HDU (0 = primary) and the keyword.
pub fn check(bytes: &[u8]) -> Result<(), String> {
    let mut start = 0;
    let mut index = 0;
    while start < bytes.len() {
        let data_end = check_hdu(bytes, start, index).map_err(|e| format!("HDU {index}: {e}"))?;
        start = data_end.div_ceil(BLOCK) * BLOCK;
        index += 1;
    }
    if index == 0 {
        return Err("empty file (not FITS)".into());
    }
    Ok(())
}

/// Checks the HDU whose header starts at `start`; returns the end of its data unit.
fn check_hdu(bytes: &[u8], start: usize, index: usize) -> Result<usize, String> {
    let (values, header_end) = read_header(bytes, start, index)?;
    let data_start = header_end.div_ceil(BLOCK) * BLOCK;
    if data_start > bytes.len() {
        return Err("the header's last 2880-byte block is cut short (file truncated?)".into());
    }
    let int = |key: &str| integer(&values, key);
    let kind = if index == 0 {
        "IMAGE".to_string()
    } else {
        match values.get("XTENSION") {
            Some(Value::String { value, .. }) => value.clone(),
            _ => return Err("no valid XTENSION keyword (IMAGE, BINTABLE or TABLE)".into()),
        }
    };
    let naxis = int("NAXIS")?.ok_or("no NAXIS keyword")?;
    in_range("NAXIS", naxis, 0, MAX_INDEX)?;
    let bitpix = int("BITPIX")?.ok_or("no BITPIX keyword")?;
    if ![8, 16, 32, 64, -32, -64].contains(&bitpix) {
        return Err(format!(
            "BITPIX = {bitpix}; expected 8, 16, 32, 64, -32 or -64"
        ));
    }
    let mut axes = Vec::new();
    for i in 1..=naxis {
        let key = format!("NAXIS{i}");
        let n = int(&key)?.ok_or_else(|| format!("no {key} keyword (NAXIS = {naxis})"))?;
        in_range(&key, n, 0, i64::MAX)?;
        axes.push(n as u64);
    }
    let too_big = || "the data size overflows".to_string();
    let size = match kind.as_str() {
        "BINTABLE" | "TABLE" => {
            if naxis != 2 {
                return Err(format!("a {kind} needs NAXIS = 2, found {naxis}"));
            }
            let tfields = int("TFIELDS")?.ok_or("no TFIELDS keyword")?;
            in_range("TFIELDS", tfields, 0, MAX_INDEX)?;
            let pcount = int("PCOUNT")?.unwrap_or(0);
            in_range("PCOUNT", pcount, 0, i64::MAX)?;
            if let Some(znaxis) = int("ZNAXIS")? {
                in_range("ZNAXIS", znaxis, 0, MAX_INDEX)?;
            }
            // Row widths stay far below where fitsrs' unchecked sums of bits could overflow.
            in_range("NAXIS1", axes[0] as i64, 0, 1 << 31)?;
            if kind == "BINTABLE" {
                check_row_width(&values, tfields, axes[0])?;
            }
            let main = axes[0].checked_mul(axes[1]).ok_or_else(too_big)?;
            // fitsrs skips the heap (PCOUNT) after a binary table only; walk as it does.
            let heap = if kind == "BINTABLE" { pcount as u64 } else { 0 };
            main.checked_add(heap).ok_or_else(too_big)?
        }
        _ => axes
            .iter()
            .try_fold(if naxis == 0 { 0 } else { 1 }, |acc: u64, &n| {
                acc.checked_mul(n)
            })
            .and_then(|n| n.checked_mul(bitpix.unsigned_abs() / 8))
            .ok_or_else(too_big)?,
    };
    let data_end = usize::try_from(size)
        .ok()
        .and_then(|n| data_start.checked_add(n))
        .filter(|&end| end <= bytes.len())
        .ok_or_else(|| {
            format!(
                "the data unit needs {size} bytes but only {} remain (file truncated?)",
                bytes.len() - data_start
            )
        })?;
    Ok(data_end)
}

/// Parses the cards from `start` up to `END`; returns the values (the last of a repeated
/// keyword wins, as in fitsrs) and the offset just after the `END` card.
fn read_header(
    bytes: &[u8],
    start: usize,
    index: usize,
) -> Result<(HashMap<String, Value>, usize), String> {
    let mut values = HashMap::new();
    let mut offset = start;
    loop {
        let Some(card) = bytes
            .get(offset..offset + CARD)
            .and_then(|s| <&[u8; CARD]>::try_from(s).ok())
        else {
            return Err("the header has no END card (file truncated or not FITS)".into());
        };
        let number = (offset - start) / CARD + 1;
        if lone_quote(card) {
            return Err(format!(
                "card {number}: a string value that is a lone quote (')"
            ));
        }
        let parsed = Card::try_from(card).ok();
        if offset == start {
            check_first_card(parsed.as_ref(), index)?;
        }
        match parsed {
            Some(Card::End) => return Ok((values, offset + CARD)),
            Some(Card::Value { name, value }) | Some(Card::Hierarch { name, value }) => {
                values.insert(name, value);
            }
            Some(Card::Xtension { x, .. }) => {
                let value = Value::String {
                    value: x.to_string(),
                    comment: None,
                };
                values.insert("XTENSION".into(), value);
            }
            _ => {}
        }
        offset += CARD;
    }
}

/// The primary header starts with `SIMPLE = T`, an extension's with `XTENSION`.
fn check_first_card(card: Option<&Card>, index: usize) -> Result<(), String> {
    let ok = match card {
        Some(Card::Value {
            name,
            value: Value::Logical { value: true, .. },
        }) => index == 0 && name == "SIMPLE",
        Some(Card::Xtension { .. }) => index > 0,
        _ => false,
    };
    match (ok, index) {
        (true, _) => Ok(()),
        (false, 0) => Err("the first card is not SIMPLE = T (not a FITS file)".into()),
        (false, _) => Err(
            "the header does not start with XTENSION (trailing bytes after the last HDU, \
             or an unsupported extension)"
                .into(),
        ),
    }
}

/// Whether fitsrs would parse a string value of this card that is a single `'` (it slices
/// `[1..0]` there). The value field starts where fitsrs' card parser looks for it.
fn lone_quote(card: &[u8; CARD]) -> bool {
    let keyword = String::from_utf8_lossy(card[..8].trim_ascii());
    let field = match keyword.as_ref() {
        "CONTINUE" => &card[8..],
        "HIERARCH" => match card[9..].iter().position(|&b| b == b'=') {
            Some(eq) => &card[9 + eq + 1..],
            None => return false,
        },
        "XTENSION" => &card[10..],
        _ if &card[8..10] == b"= " => &card[10..],
        _ => return false,
    };
    matches!(split_value_and_comment(field), Ok((value, _)) if value == "'")
}

/// Every `TFORMn` of a binary table parses (so fitsrs keeps every column) and the widths add
/// up to NAXIS1 (checked, so fitsrs' unchecked sum cannot overflow).
fn check_row_width(
    values: &HashMap<String, Value>,
    tfields: i64,
    naxis1: u64,
) -> Result<(), String> {
    let mut width: u64 = 0;
    for n in 1..=tfields {
        let key = format!("TFORM{n}");
        let form = match values.get(&key) {
            Some(Value::String { value, .. }) => value,
            _ => return Err(format!("no {key} string keyword (TFIELDS = {tfields})")),
        };
        let parsed = parse_tform(form).map_err(|e| format!("{key} = '{form}': {e}"))?;
        width = width
            .checked_add(parsed.bytes)
            .ok_or_else(|| format!("{key}: the row width overflows"))?;
    }
    if width != naxis1 {
        return Err(format!(
            "NAXIS1 = {naxis1} but the TFORMn columns add up to {width} bytes per row"
        ));
    }
    Ok(())
}

/// A binary-table column format `rT` (FITS 4.0 Table 18): repeat count and type letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TForm {
    pub repeat: u64,
    pub kind: char,
    /// Bytes per row: ⌈repeat · bits / 8⌉ (8 or 16 for the P/Q array descriptors).
    pub bytes: u64,
}

/// Parses a TFORM value the way fitsrs does (leading digits, then the type letter), refusing
/// what fitsrs would drop or miscount.
pub fn parse_tform(form: &str) -> Result<TForm, String> {
    let digits: String = form.chars().take_while(|c| c.is_ascii_digit()).collect();
    let repeat = if digits.is_empty() {
        1
    } else {
        digits
            .parse::<u64>()
            .map_err(|_| format!("repeat count {digits} is too large"))?
    };
    let mut rest = form[digits.len()..].chars();
    let kind = rest.next().ok_or("no type letter")?;
    let bits: u64 = match kind {
        'X' => 1,
        'L' | 'B' | 'A' => 8,
        'I' => 16,
        'J' | 'E' => 32,
        'K' | 'D' | 'C' => 64,
        'M' => 128,
        'P' | 'Q' => {
            let element = rest.next().unwrap_or(' ');
            if !"LXBIJKAEDCM".contains(element) {
                return Err(format!(
                    "array descriptor of unknown element type '{element}'"
                ));
            }
            return Ok(TForm {
                repeat,
                kind,
                bytes: if kind == 'P' { 8 } else { 16 },
            });
        }
        other => return Err(format!("unknown type letter '{other}'")),
    };
    let total_bits = repeat
        .checked_mul(bits)
        .ok_or("the column width overflows")?;
    Ok(TForm {
        repeat,
        kind,
        bytes: total_bits.div_ceil(8),
    })
}

/// An integer keyword: `None` when absent, an error when present but not an integer.
fn integer(values: &HashMap<String, Value>, key: &str) -> Result<Option<i64>, String> {
    match values.get(key) {
        None => Ok(None),
        Some(Value::Integer { value, .. }) => Ok(Some(*value)),
        Some(other) => Err(format!("{key} is not an integer: {other:?}")),
    }
}

fn in_range(key: &str, value: i64, lo: i64, hi: i64) -> Result<(), String> {
    if (lo..=hi).contains(&value) {
        Ok(())
    } else {
        Err(format!("{key} = {value}; expected {lo}..={hi}"))
    }
}
