use super::*;
use std::fs;
use std::path::PathBuf;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("zcnn-fitsw-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn card_text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("ASCII")
}

#[test]
fn cards_follow_the_fixed_format() {
    let c = format_card(&Card::new("NAXIS1", CardValue::Int(42), "bytes")).unwrap();
    assert_eq!(&card_text(&c)[..35], "NAXIS1  =                   42 / by");
    let c = format_card(&Card::new("EXTNAME", CardValue::Text("Z".into()), "")).unwrap();
    assert_eq!(card_text(&c).trim_end(), "EXTNAME = 'Z       '");
    let c = format_card(&Card::new("ORIGIN", CardValue::Text("it's".into()), "")).unwrap();
    assert_eq!(card_text(&c).trim_end(), "ORIGIN  = 'it''s   '");
    let c = format_card(&Card::new("SIMPLE", CardValue::Bool(true), "")).unwrap();
    assert_eq!(card_text(&c).trim_end(), "SIMPLE  =                    T");
    let c = format_card(&Card::new("ZMIN", CardValue::Float(0.003), "")).unwrap();
    assert_eq!(card_text(&c).trim_end(), "ZMIN    =                 3E-3");
    assert_eq!(c.len(), 80);
    assert!(format_card(&Card::new("lower", CardValue::Int(1), "")).is_err());
    assert!(format_card(&Card::new("TOOLONGKEY", CardValue::Int(1), "")).is_err());
    assert!(format_card(&Card::new("X", CardValue::Float(f64::NAN), "")).is_err());
    assert!(format_card(&Card::new("X", CardValue::Text("é".into()), "")).is_err());
    assert!(format_card(&Card::new("X", CardValue::Text("a".repeat(80)), "")).is_err());
}

fn columns() -> Vec<Column> {
    let col = |name: &str, kind, unit: Option<&str>| Column {
        name: name.into(),
        kind,
        unit: unit.map(String::from),
        description: String::new(),
    };
    vec![
        col("ID", ColumnType::Text(3), None),
        col("Z", ColumnType::F32, None),
        col("ZWARN", ColumnType::I32, None),
        col("WAVE", ColumnType::F64, Some("Angstrom")),
        col("N", ColumnType::I64, None),
        col("PDF", ColumnType::F32Vector(2), None),
    ]
}

#[test]
fn a_table_has_whole_blocks_the_row_count_and_big_endian_rows() {
    let dir = scratch("table");
    let path = dir.join("t.fits");
    let primary = [Card::new("ZCNNVER", CardValue::Text("0.1.0".into()), "")];
    let mut w = BinTableWriter::create(&path, &primary, "REDSHIFTS", columns(), &[]).unwrap();
    assert!(!path.exists(), "the final name appears only when finished");
    w.append(&[
        Value::Text("a1"),
        Value::F32(1.5),
        Value::I32(3),
        Value::F64(-2.0),
        Value::I64(1 << 40),
        Value::F32s(&[0.25, 0.75]),
    ])
    .unwrap();
    w.append(&[
        Value::Text("b22"),
        Value::F32(0.0),
        Value::I32(0),
        Value::F64(0.0),
        Value::I64(-1),
        Value::F32s(&[1.0, 0.0]),
    ])
    .unwrap();
    assert_eq!(w.rows(), 2);
    w.finish().unwrap().commit().unwrap();
    let bytes = fs::read(&path).unwrap();
    // Primary header (1 block), table header (1 block), data (1 block).
    assert_eq!(bytes.len(), 3 * 2880);
    let cards: Vec<String> = bytes[..2 * 2880].chunks(80).map(card_text).collect();
    assert!(cards[0].starts_with("SIMPLE  =                    T"));
    assert!(cards.iter().any(|c| c.starts_with("ZCNNVER = '0.1.0   '")));
    assert!(cards[36].starts_with("XTENSION= 'BINTABLE'"));
    // Row bytes: 3 + 4 + 4 + 8 + 8 + 8 = 35.
    assert!(cards
        .iter()
        .any(|c| c.starts_with("NAXIS1  =                   35")));
    assert!(cards
        .iter()
        .any(|c| c.starts_with("NAXIS2  =                    2")));
    assert!(cards.iter().any(|c| c.starts_with("TFORM6  = '2E      '")));
    assert!(cards.iter().any(|c| c.starts_with("TUNIT4  = 'Angstrom'")));
    assert!(!cards.iter().any(|c| c.starts_with("TUNIT1")));
    assert!(cards.iter().any(|c| c.starts_with("EXTNAME = 'REDSHIFTS'")));
    let data = &bytes[2 * 2880..];
    assert_eq!(&data[..3], b"a1 ");
    assert_eq!(&data[3..7], &1.5f32.to_be_bytes());
    assert_eq!(&data[7..11], &3i32.to_be_bytes());
    assert_eq!(&data[11..19], &(-2.0f64).to_be_bytes());
    assert_eq!(&data[19..27], &(1i64 << 40).to_be_bytes());
    assert_eq!(
        &data[27..35],
        &[0.25f32.to_be_bytes(), 0.75f32.to_be_bytes()].concat()[..]
    );
    assert_eq!(&data[35..38], b"b22");
    assert!(data[70..].iter().all(|&b| b == 0), "data padding is zeros");
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_rows_are_errors_and_an_unfinished_table_leaves_nothing() {
    let dir = scratch("bad");
    let path = dir.join("t.fits");
    let mut w = BinTableWriter::create(&path, &[], "T", columns(), &[]).unwrap();
    let err = w.append(&[Value::I32(1)]).expect_err("too few");
    assert!(err.contains("1 values for 6 columns"), "{err}");
    let row = [
        Value::Text("toolong"),
        Value::F32(1.0),
        Value::I32(0),
        Value::F64(0.0),
        Value::I64(0),
        Value::F32s(&[0.0, 1.0]),
    ];
    let err = w.append(&row).expect_err("too long");
    assert!(err.contains("column ID"), "{err}");
    let mut wrong_type = row.clone();
    wrong_type[0] = Value::Text("ok");
    wrong_type[1] = Value::F64(1.0);
    assert!(w
        .append(&wrong_type)
        .expect_err("type")
        .contains("column Z"));
    drop(w);
    let leftovers: Vec<_> = fs::read_dir(&dir).unwrap().collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    fs::remove_dir_all(&dir).unwrap();
}
