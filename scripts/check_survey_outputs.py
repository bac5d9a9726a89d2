#!/usr/bin/env python3
"""Reads zcnn's survey outputs with the ecosystem's own readers and checks them against zcnn's
numbers (run by tests/formats.rs; needs qp-prob, h5py, astropy, pyarrow).

usage: check_survey_outputs.py FOLDER
FOLDER holds what tests/formats.rs made: predictions.csv, catalog.fits, report/report.json,
pdfs.hdf5 when zcnn was built with the hdf5 feature, catalog.parquet with the parquet feature.
Exit status 0: every check passed; 1: a check failed; 3: a reader is missing.
"""
import csv
import json
import os
import sys

try:
    import numpy as np
    from astropy.io import fits
except ImportError as e:  # the caller decides whether a missing tool fails or skips
    print(f"missing: {e}")
    sys.exit(3)


def close(a, b, tol, what):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape or not np.allclose(a, b, rtol=tol, atol=tol):
        diff = np.max(np.abs(a - b)) if a.shape == b.shape else f"shapes {a.shape} vs {b.shape}"
        raise AssertionError(f"{what}: zcnn and the reader differ (max diff {diff})")
    print(f"ok: {what}")


def check_fits(folder, predictions):
    with fits.open(os.path.join(folder, "catalog.fits")) as hdus:
        assert hdus[0].data is None, "the primary HDU must be empty"
        header = hdus[0].header
        for key in ["ZCNNVER", "CKPTSHA", "PRESET", "ZMIN", "ZMAX", "NZBINS", "SEED", "DATE"]:
            assert key in header, f"primary header lacks {key}"
        assert len(header["CKPTSHA"]) == 64, "CKPTSHA is a SHA-256 in hex"
        table = hdus["REDSHIFTS"]
        names = table.columns.names
        expected = ["ID", "Z", "ZERR", "Z_MODE", "Z_MEAN", "Z_MEDIAN", "Z_Q2P5", "Z_Q16",
                    "Z_Q84", "Z_Q97P5", "Z_CONF", "P_MAX", "ZWARN", "PDF"]
        assert names == expected, f"columns {names}"
        # Redshifts are dimensionless: no unit on any column.
        assert all(not u for u in table.columns.units), f"units {table.columns.units}"
        data = table.data
        close(data["Z"], [float(r["z"]) for r in predictions], 1e-6, "FITS Z = CSV z")
        close(data["Z_MEAN"], [float(r["z_mean"]) for r in predictions], 1e-6, "FITS Z_MEAN = CSV z_mean")
        close(data["ZERR"], [float(r["z_std"]) for r in predictions], 1e-5, "FITS ZERR = CSV z_std")
        bins = header["NZBINS"]
        assert data["PDF"].shape == (len(predictions), bins), data["PDF"].shape
        q = [data[c] for c in ["Z_Q2P5", "Z_Q16", "Z_MEDIAN", "Z_Q84", "Z_Q97P5"]]
        assert all(np.all(q[i] <= q[i + 1] + 1e-6) for i in range(4)), "quantiles ascend"
        assert np.all((data["Z_CONF"] >= 0) & (data["Z_CONF"] <= 1 + 1e-6)), "Z_CONF in [0, 1]"
        print("ok: FITS catalogue opens in astropy with its columns, units and header")
        return data


def check_qp(folder, catalog, report):
    import qp  # noqa: F401 (imported here: only this check needs it)
    from qp.metrics.pit import PIT

    ensemble = qp.read(os.path.join(folder, "pdfs.hdf5"))
    assert ensemble.npdf == len(catalog), ensemble.npdf
    ancil = ensemble.ancil
    close(ancil["id"], catalog["ID"], 0, "qp ancil id = FITS ID")
    close(ancil["zmode"], catalog["Z_MODE"], 1e-6, "qp ancil zmode = FITS Z_MODE")
    close(ancil["zmean"], catalog["Z_MEAN"], 1e-6, "qp ancil zmean = FITS Z_MEAN")
    close(ancil["zmedian"], catalog["Z_MEDIAN"], 1e-6, "qp ancil zmedian = FITS Z_MEDIAN")
    assert np.all(ancil["distribution_type"] == 1), "distribution_type 1 (posterior)"
    # qp renormalises hist PDFs: its bin probabilities are the density times the bin width.
    edges = np.ravel(ensemble.metadata["bins"])
    widths = np.diff(edges)
    probabilities = ensemble.dist.pdfs * widths
    close(probabilities, catalog["PDF"] / catalog["PDF"].sum(axis=1, keepdims=True), 1e-5,
          "qp PDFs = FITS PDF vectors")
    close(ensemble.mean().ravel(), catalog["Z_MEAN"], 1e-5, "qp's own mean = zcnn's z_mean")
    pit = PIT(ensemble, ancil["redshift"])
    close(pit.evaluate_PIT_KS().statistic, report["pit_ks"], 1e-9, "qp PIT KS = report pit_ks")
    close(pit.evaluate_PIT_CvM().statistic, report["pit_cvm"], 1e-9, "qp PIT CvM = report pit_cvm")
    close(pit.evaluate_PIT_anderson_ksamp().statistic, report["pit_ad"], 1e-9,
          "qp PIT AD = report pit_ad")
    close(pit.evaluate_PIT_outlier_rate(), report["pit_outlier_rate"], 1e-9,
          "qp PIT outlier rate = report pit_outlier_rate")


def check_parquet(folder, catalog):
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(os.path.join(folder, "catalog.parquet"))
    assert parquet.metadata.num_row_groups > 1, "one row group per chunk"
    assert len(parquet.schema_arrow.metadata[b"checkpoint_sha256"]) == 64
    table = parquet.read().to_pandas()
    for column, fits_column in [("id", "ID"), ("z", "Z"), ("z_err", "ZERR"), ("z_q16", "Z_Q16"),
                                ("z_conf", "Z_CONF"), ("zwarn", "ZWARN")]:
        close(table[column], catalog[fits_column], 0, f"parquet {column} = FITS {fits_column}")


def main():
    folder = sys.argv[1]
    with open(os.path.join(folder, "predictions.csv")) as f:
        predictions = list(csv.DictReader(f))
    with open(os.path.join(folder, "report", "report.json")) as f:
        report = json.load(f)
    catalog = check_fits(folder, predictions)
    if os.path.exists(os.path.join(folder, "pdfs.hdf5")):
        try:
            import qp  # noqa: F401
            import h5py  # noqa: F401
        except ImportError as e:
            print(f"missing: {e}")
            sys.exit(3)
        check_qp(folder, catalog, report)
    else:
        print("note: no pdfs.hdf5 (zcnn built without the hdf5 feature)")
    if os.path.exists(os.path.join(folder, "catalog.parquet")):
        try:
            import pyarrow  # noqa: F401
        except ImportError as e:
            print(f"missing: {e}")
            sys.exit(3)
        check_parquet(folder, catalog)
    else:
        print("note: no catalog.parquet (zcnn built without the parquet feature)")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print(f"FAILED: {e}")
        sys.exit(1)
