//! A spectrum stored as a binary table: flux, wavelength and optional ivar and mask columns,
//! one pixel per row (or equal-length vector cells, read row after row).

use super::layout::{parse_tform, TForm};
use super::{column_names, number, text, unit_factor, Columns};
use fitsrs::hdu::data::bintable::ColumnId;
use fitsrs::hdu::header::extension::bintable::BinTable;
use fitsrs::hdu::header::ValueMap;
use fitsrs::{DataValue, Fits};
use std::io::Cursor;

/// One column to read: its 0-based index, name, format and TSCAL/TZERO.
struct Column {
    index: usize,
    name: String,
    form: TForm,
    scale: f64,
    zero: f64,
}

impl Column {
    /// Column `index` (0-based) named `name`, whose type letter must be one of `kinds`.
    fn new(header: &ValueMap, index: usize, name: &str, kinds: &str) -> Result<Self, String> {
        let n = index + 1;
        let form_text = text(header, &format!("TFORM{n}")).unwrap_or("");
        let form = parse_tform(form_text).map_err(|e| format!("column '{name}': {e}"))?;
        if !kinds.contains(form.kind) || form.repeat == 0 {
            return Err(format!(
                "column '{name}' has TFORM{n} = '{form_text}'; expected one of the types {kinds} \
                 with at least one value"
            ));
        }
        Ok(Column {
            index,
            name: name.to_string(),
            form,
            scale: number(header, &format!("TSCAL{n}"))?.unwrap_or(1.0),
            zero: number(header, &format!("TZERO{n}"))?.unwrap_or(0.0),
        })
    }
}

/// Reads the flux, wavelength, ivar and mask columns of the table.
pub(super) fn read(
    fits: &mut Fits<Cursor<&[u8]>>,
    hdu: &fitsrs::fits::HDU<BinTable>,
) -> Result<Columns, String> {
    let header = hdu.get_header();
    let table = header.get_xtension();
    if table.get_z_image().is_some() {
        return Err("a tile-compressed image, not a spectrum table".into());
    }
    let names: Vec<String> = column_names(header);
    let find = |wanted: &[&str]| {
        wanted
            .iter()
            .find_map(|w| names.iter().position(|n| n.eq_ignore_ascii_case(w)))
    };
    let missing = |what: &str| format!("no {what} column (columns: {})", names.join(", "));
    let floats = "ED";
    let flux_index = find(&["flux"]).ok_or_else(|| missing("'flux'"))?;
    let (wave_index, log) = match find(&["loglam"]) {
        Some(i) => (i, true),
        None => (
            find(&["wave", "wavelength", "lambda"])
                .ok_or_else(|| missing("wavelength ('loglam', 'wave', 'wavelength', 'lambda')"))?,
            false,
        ),
    };
    let column = |i: usize, kinds| Column::new(header, i, &names[i], kinds);
    let mut columns = vec![column(flux_index, floats)?, column(wave_index, floats)?];
    let ivar_index = find(&["ivar"]);
    let mask_index = find(&["and_mask", "mask"]);
    if let Some(i) = ivar_index {
        columns.push(column(i, floats)?);
    }
    if let Some(i) = mask_index {
        columns.push(column(i, "BIJK")?);
    }
    let repeat = columns[0].form.repeat;
    if let Some(c) = columns.iter().find(|c| c.form.repeat != repeat) {
        return Err(format!(
            "the lengths disagree: column '{}' holds {} values per row, '{}' {repeat}",
            c.name, c.form.repeat, columns[0].name
        ));
    }
    let rows = table.get_num_rows();
    let mut values = read_values(fits, hdu, &columns, rows * repeat as usize)?;
    let wave_unit = if log {
        1.0
    } else {
        unit_factor(header, &format!("TUNIT{}", wave_index + 1))?
    };
    let mask = mask_index.map(|_| values.pop().unwrap_or_default());
    let ivar = ivar_index.map(|_| values.pop().unwrap_or_default());
    let mut values = values.into_iter();
    let flux = values.next().unwrap_or_default();
    let wave = values.next().unwrap_or_default();
    let lambda = wave
        .iter()
        .map(|&v| if log { 10f64.powf(v) } else { wave_unit * v })
        .collect();
    let column_name = |i: usize| format!("column '{}'", names[i]);
    Ok(Columns {
        lambda,
        flux,
        ivar,
        bad: mask.map(|m| m.iter().map(|&v| v != 0.0).collect()),
        names: [
            column_name(wave_index),
            column_name(flux_index),
            ivar_index.map(column_name).unwrap_or_default(),
        ],
    })
}

/// The values of `columns` (each `per_column` long), TSCAL/TZERO applied, in their order.
fn read_values(
    fits: &mut Fits<Cursor<&[u8]>>,
    hdu: &fitsrs::fits::HDU<BinTable>,
    columns: &[Column],
    per_column: usize,
) -> Result<Vec<Vec<f64>>, String> {
    if per_column == 0 {
        return Err("the table has no rows".into());
    }
    let ids: Vec<ColumnId> = columns.iter().map(|c| ColumnId::Index(c.index)).collect();
    let mut data = fits.get_data(hdu).table_data();
    data.select_fields(&ids);
    let mut out = vec![Vec::with_capacity(per_column); columns.len()];
    for value in data.take(per_column * columns.len()) {
        let (index, raw) = match value {
            DataValue::Float { value, column, .. } => (column, f64::from(value)),
            DataValue::Double { value, column, .. } => (column, value),
            DataValue::UnsignedByte { value, column, .. } => (column, f64::from(value)),
            DataValue::Short { value, column, .. } => (column, f64::from(value)),
            DataValue::Integer { value, column, .. } => (column, f64::from(value)),
            DataValue::Long { value, column, .. } => (column, value as f64),
            other => return Err(format!("unexpected table value {other:?}")),
        };
        let slot = columns
            .iter()
            .position(|c| matches!(index, ColumnId::Index(i) if i == c.index))
            .ok_or_else(|| format!("a value of unselected column {index:?}"))?;
        let c = &columns[slot];
        out[slot].push(c.zero + c.scale * raw);
    }
    if let Some((c, v)) = columns
        .iter()
        .zip(&out)
        .find(|(_, v)| v.len() != per_column)
    {
        return Err(format!(
            "column '{}': the table data ends after {} of {per_column} values",
            c.name,
            v.len()
        ));
    }
    Ok(out)
}
