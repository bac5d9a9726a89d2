//! Training-time transforms of image cutouts (Pasquet et al. 2019; Lin et al. 2022, as read
//! from QiufanLin/PZbias, shared research §1c).
//!
//! - The 8 symmetries of the square (the dihedral group D₄): rotation by k · 90° (k = 0…3),
//!   optionally followed by a left–right flip. Lin et al. draw a rotation, then flip up–down,
//!   left–right or not; every such product is one of these 8.
//! - The sign-preserving square-root stretch: x ↦ √(x + 1) − 1 for x ≥ 0 and −√(1 − x) + 1 for
//!   x < 0 (odd, monotonic, ≈ x/2 near 0, ≈ √x for bright pixels).

/// The number of dihedral transforms.
pub const DIHEDRAL_COUNT: usize = 8;

/// Source pixel (row, col) of destination (row, col) under transform `op` (0..8) of a
/// `size` × `size` image: op % 4 quarter turns counter-clockwise, then a left–right flip when
/// op ≥ 4.
pub fn source_of(op: usize, size: usize, row: usize, col: usize) -> (usize, usize) {
    let last = size - 1;
    // Undo the flip first (it was applied last).
    let col = if op >= 4 { last - col } else { col };
    // A counter-clockwise quarter turn maps source (r, c) to destination (last − c, r); so the
    // source of destination (r, c) is (c, last − r). Apply k times.
    let (mut r, mut c) = (row, col);
    for _ in 0..op % 4 {
        (r, c) = (c, last - r);
    }
    (r, c)
}

/// Writes transform `op` of `src` (`channels` × `size` × `size`) into `dst`.
pub fn dihedral(src: &[f32], channels: usize, size: usize, op: usize, dst: &mut [f32]) {
    assert!(
        op < DIHEDRAL_COUNT,
        "dihedral transform {op} of {DIHEDRAL_COUNT}"
    );
    assert_eq!(src.len(), channels * size * size, "source shape");
    assert_eq!(dst.len(), src.len(), "destination shape");
    for ch in 0..channels {
        let plane = ch * size * size;
        for row in 0..size {
            for col in 0..size {
                let (r, c) = source_of(op, size, row, col);
                dst[plane + row * size + col] = src[plane + r * size + c];
            }
        }
    }
}

/// The sign-preserving square-root stretch of one pixel.
pub fn sqrt_stretch(x: f32) -> f32 {
    if x >= 0.0 {
        (x + 1.0).sqrt() - 1.0
    } else {
        1.0 - (1.0 - x).sqrt()
    }
}

/// Applies [`sqrt_stretch`] to every pixel.
pub fn sqrt_stretch_all(pixels: &mut [f32]) {
    pixels.iter_mut().for_each(|p| *p = sqrt_stretch(*p));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An image whose pixels are all distinct: value = index.
    fn numbered(channels: usize, size: usize) -> Vec<f32> {
        (0..channels * size * size).map(|i| i as f32).collect()
    }

    fn apply(op: usize, image: &[f32], channels: usize, size: usize) -> Vec<f32> {
        let mut out = vec![0.0; image.len()];
        dihedral(image, channels, size, op, &mut out);
        out
    }

    #[test]
    fn every_transform_is_a_channel_preserving_permutation_and_all_eight_differ() {
        for size in [1, 2, 5, 44] {
            let (channels, image) = (3, numbered(3, size));
            let mut seen = Vec::new();
            for op in 0..DIHEDRAL_COUNT {
                let out = apply(op, &image, channels, size);
                for ch in 0..channels {
                    let plane = ch * size * size..(ch + 1) * size * size;
                    let mut values: Vec<f32> = out[plane.clone()].to_vec();
                    values.sort_by(f32::total_cmp);
                    assert_eq!(values, image[plane].to_vec(), "op {op}, size {size}");
                }
                seen.push(out);
            }
            if size > 1 {
                for a in 0..8 {
                    for b in a + 1..8 {
                        assert_ne!(seen[a], seen[b], "ops {a} and {b} coincide (size {size})");
                    }
                }
            }
        }
    }

    #[test]
    fn rotations_compose_and_flips_are_involutions() {
        let (channels, size) = (2, 7);
        let image = numbered(channels, size);
        // Four quarter turns are the identity; two quarter turns are one half turn.
        let mut turned = image.clone();
        for _ in 0..4 {
            turned = apply(1, &turned, channels, size);
        }
        assert_eq!(turned, image);
        assert_eq!(
            apply(1, &apply(1, &image, channels, size), channels, size),
            apply(2, &image, channels, size)
        );
        // Flipping twice (op 4 is the flip alone) is the identity; a quarter turn is
        // counter-clockwise: the top-right corner goes to the top-left.
        assert_eq!(
            apply(4, &apply(4, &image, channels, size), channels, size),
            image
        );
        let turned = apply(1, &image, channels, size);
        assert_eq!(turned[0], image[size - 1]);
        // Op 4 mirrors columns.
        assert_eq!(apply(4, &image, channels, size)[0], image[size - 1]);
    }

    #[test]
    fn the_stretch_is_odd_monotonic_and_matches_its_formula() {
        assert_eq!(sqrt_stretch(0.0), 0.0);
        assert!((sqrt_stretch(3.0) - 1.0).abs() < 1e-7);
        assert!((sqrt_stretch(-3.0) + 1.0).abs() < 1e-7);
        assert!((sqrt_stretch(99.0) - 9.0).abs() < 1e-6);
        let xs: Vec<f32> = (-200..=200).map(|i| i as f32 * 0.37).collect();
        for w in xs.windows(2) {
            assert!(sqrt_stretch(w[1]) > sqrt_stretch(w[0]));
            assert_eq!(sqrt_stretch(-w[0]), -sqrt_stretch(w[0]));
        }
        let mut pixels = vec![3.0, -3.0];
        sqrt_stretch_all(&mut pixels);
        assert!((pixels[0] - 1.0).abs() < 1e-7 && (pixels[1] + 1.0).abs() < 1e-7);
    }
}
