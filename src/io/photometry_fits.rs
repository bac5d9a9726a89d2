//! Photometric catalogues from a FITS binary table (the first BINTABLE, or the one named by
//! [`PhotometryColumns::hdu`]), read with fitsrs after the project's structural check
//! ([`super::fits`]). Magnitude, error and redshift columns are scalar numbers (`TFORMn` of
//! type B, I, J, K, E or D with repeat 1; `TSCALn`/`TZEROn` apply); the id column an integer
//! (B, I, J or K, read exactly, without scaling). Rows are numbered from 1.

use super::fits::{check_layout, column_names, number, parse_tform, text};
use super::photometry::{find_column, Builder, PhotometryColumns, PhotometryTable};
use fitsrs::hdu::data::bintable::ColumnId;
use fitsrs::hdu::header::extension::bintable::BinTable;
use fitsrs::{DataValue, Fits, HDU};
use std::io::Cursor;

/// Parses the bytes of a FITS catalogue; `source` names it in errors.
pub fn parse_photometry_fits(
    bytes: &[u8],
    source: &str,
    columns: &PhotometryColumns,
) -> Result<PhotometryTable, String> {
    check_layout(bytes).map_err(|e| format!("{source}: {e}"))?;
    // As for spectra (see io::fits): fitsrs may still panic on malformed content that the
    // layout check cannot foresee; that must reach the user as an error.
    std::panic::catch_unwind(|| read_table(bytes, source, columns)).unwrap_or_else(|_| {
        Err(format!(
            "{source}: the FITS reader (fitsrs) failed on malformed content"
        ))
    })
}

/// One selected column: 0-based index, name, integer or not, TSCAL/TZERO.
struct Selected {
    index: usize,
    name: String,
    integer: bool,
    scale: f64,
    zero: f64,
}

/// One value as stored.
#[derive(Clone, Copy)]
enum Cell {
    Int(i64),
    Float(f64),
}

/// The values of one selected column.
enum Values {
    Floats(Vec<f64>),
    Integers(Vec<i128>),
}

fn read_table(
    bytes: &[u8],
    source: &str,
    columns: &PhotometryColumns,
) -> Result<PhotometryTable, String> {
    let mut fits = Fits::from_reader(Cursor::new(bytes));
    let mut seen = Vec::new();
    let mut index = 0;
    while let Some(hdu) = fits.next() {
        let hdu = hdu.map_err(|e| format!("{source}: HDU {index}: {e}"))?;
        if let HDU::XBinaryTable(table) = hdu {
            let name = text(table.get_header(), "EXTNAME").map(|n| n.trim().to_string());
            let place = match &name {
                Some(n) => format!("{source}: HDU {index} ({n})"),
                None => format!("{source}: HDU {index}"),
            };
            let chosen = match &columns.hdu {
                Some(want) => name
                    .as_deref()
                    .is_some_and(|n| n.eq_ignore_ascii_case(want.trim())),
                None => true,
            };
            if chosen {
                return read_rows(&mut fits, &table, &place, columns);
            }
            seen.push(place);
        }
        index += 1;
    }
    Err(match &columns.hdu {
        Some(want) => format!(
            "{source}: no binary table named '{want}' (found: {})",
            seen.join(", ")
        ),
        None => format!("{source}: no binary table"),
    })
}

/// Reads and checks the selected columns of `hdu`; `place` names file and HDU in errors.
fn read_rows(
    fits: &mut Fits<Cursor<&[u8]>>,
    hdu: &fitsrs::fits::HDU<BinTable>,
    place: &str,
    columns: &PhotometryColumns,
) -> Result<PhotometryTable, String> {
    let header = hdu.get_header();
    let table = header.get_xtension();
    let names: Vec<String> = column_names(header);
    let select =
        |name: &str, integer: bool| -> Result<Selected, String> {
            let index = find_column(&names, name).map_err(|e| format!("{place}: {e}"))?;
            let n = index + 1;
            let form_text = text(header, &format!("TFORM{n}")).unwrap_or("");
            let form =
                parse_tform(form_text).map_err(|e| format!("{place}: column '{name}': {e}"))?;
            let kinds = if integer { "BIJK" } else { "BIJKED" };
            if !kinds.contains(form.kind) || form.repeat != 1 {
                return Err(format!(
                "{place}: column '{}' has TFORM{n} = '{form_text}'; expected one number of type {}",
                names[index],
                kinds.chars().map(String::from).collect::<Vec<_>>().join(", ")
            ));
            }
            let keyword = |key: &str| {
                number(header, &format!("{key}{n}")).map_err(|e| format!("{place}: {e}"))
            };
            let (scale, zero) = (
                keyword("TSCAL")?.unwrap_or(1.0),
                keyword("TZERO")?.unwrap_or(0.0),
            );
            if integer && (scale != 1.0 || zero.fract() != 0.0 || zero.abs() > 1e19) {
                return Err(format!(
                    "{place}: id column '{name}' has TSCAL{n} = {scale}, TZERO{n} = {zero}; ids \
                 need TSCAL 1 and an integral TZERO"
                ));
            }
            Ok(Selected {
                index,
                name: names[index].clone(),
                integer,
                scale,
                zero,
            })
        };
    let mut builder = Builder::new(place, columns)?;
    let [mag_names, err_names] = builder.band_columns();
    let mut selected = Vec::new();
    for name in mag_names.iter().chain(err_names) {
        selected.push(select(name, false)?);
    }
    let z_slot = match &columns.z {
        Some(name) => {
            selected.push(select(name, false)?);
            Some(selected.len() - 1)
        }
        None => None,
    };
    let id_slot = match &columns.id {
        Some(name) => {
            selected.push(select(name, true)?);
            Some(selected.len() - 1)
        }
        None => None,
    };
    let rows = table.get_num_rows();
    let values = read_values(fits, hdu, &selected, rows, place)?;
    let bands = columns.bands.len();
    let float = |slot: usize, row: usize| match &values[slot] {
        Values::Floats(v) => v[row],
        Values::Integers(v) => v[row] as f64,
    };
    for row in 0..rows {
        let id = match id_slot.map(|slot| &values[slot]) {
            Some(Values::Integers(v)) => v[row].to_string(),
            _ => (row + 1).to_string(),
        };
        let mags: Vec<f64> = (0..bands).map(|b| float(b, row)).collect();
        let errs: Vec<f64> = (0..bands).map(|b| float(bands + b, row)).collect();
        let z = z_slot.map(|slot| float(slot, row));
        builder.push(row + 1, id, z, &mags, &errs)?;
    }
    builder.finish()
}

/// The `rows` values of every selected column, in the order of `selected`.
fn read_values(
    fits: &mut Fits<Cursor<&[u8]>>,
    hdu: &fitsrs::fits::HDU<BinTable>,
    selected: &[Selected],
    rows: usize,
    place: &str,
) -> Result<Vec<Values>, String> {
    // The same column may be selected twice (e.g. one error column for two bands).
    let mut distinct: Vec<usize> = selected.iter().map(|s| s.index).collect();
    distinct.sort_unstable();
    distinct.dedup();
    let ids: Vec<ColumnId> = distinct.iter().map(|&i| ColumnId::Index(i)).collect();
    let mut data = fits.get_data(hdu).table_data();
    data.select_fields(&ids);
    let mut raw: Vec<Vec<Cell>> = vec![Vec::with_capacity(rows); distinct.len()];
    for value in data.take(rows * distinct.len()) {
        let (column, cell) = match value {
            DataValue::UnsignedByte { column, value, .. } => (column, Cell::Int(value.into())),
            DataValue::Short { column, value, .. } => (column, Cell::Int(value.into())),
            DataValue::Integer { column, value, .. } => (column, Cell::Int(value.into())),
            DataValue::Long { column, value, .. } => (column, Cell::Int(value)),
            DataValue::Float { column, value, .. } => (column, Cell::Float(value.into())),
            DataValue::Double { column, value, .. } => (column, Cell::Float(value)),
            other => return Err(format!("{place}: unexpected table value {other:?}")),
        };
        let slot = distinct
            .iter()
            .position(|&i| matches!(column, ColumnId::Index(c) if c == i))
            .ok_or_else(|| format!("{place}: a value of unselected column {column:?}"))?;
        raw[slot].push(cell);
    }
    selected
        .iter()
        .map(|s| {
            let cells = &raw[distinct.binary_search(&s.index).unwrap_or(0)];
            if cells.len() != rows {
                return Err(format!(
                    "{place}: column '{}': the table data ends after {} of {rows} rows",
                    s.name,
                    cells.len()
                ));
            }
            Ok(if s.integer {
                // An integral TZERO below 10¹⁹ is exact as i128.
                let zero = s.zero as i128;
                Values::Integers(
                    cells
                        .iter()
                        .map(|cell| match *cell {
                            Cell::Int(v) => zero + i128::from(v),
                            Cell::Float(v) => v as i128,
                        })
                        .collect(),
                )
            } else {
                Values::Floats(
                    cells
                        .iter()
                        .map(|cell| {
                            let v = match *cell {
                                Cell::Int(v) => v as f64,
                                Cell::Float(v) => v,
                            };
                            s.zero + s.scale * v
                        })
                        .collect(),
                )
            })
        })
        .collect()
}
