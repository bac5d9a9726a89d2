//! Non-finite pixels (NaN, ±inf) of a cutout `[bands, height, width]`: found, counted, and
//! either reported or masked (set to 0, the sky level of sky-subtracted cutouts).

/// The non-finite pixels of one cutout.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NonFinitePixels {
    pub count: usize,
    /// The first one: its band, row (y) and column (x), and its value.
    pub band: usize,
    pub y: usize,
    pub x: usize,
    pub value: f32,
}

impl NonFinitePixels {
    /// "3 of 12288 pixels are not finite (the first, NaN, at y = 5, x = 7)".
    pub fn describe(&self, pixels: usize) -> String {
        format!(
            "{} of {pixels} pixels are not finite (the first, {}, at y = {}, x = {})",
            self.count, self.value, self.y, self.x
        )
    }
}

/// Finds the non-finite values of `cutout` (`[bands, height, width]`, C order); with `mask`,
/// sets them to 0. `None` when every value is finite.
pub fn screen_nonfinite(
    cutout: &mut [f32],
    height: usize,
    width: usize,
    mask: bool,
) -> Option<NonFinitePixels> {
    let first = cutout.iter().position(|v| !v.is_finite())?;
    let value = cutout[first];
    let mut count = 0;
    for v in &mut cutout[first..] {
        if !v.is_finite() {
            count += 1;
            if mask {
                *v = 0.0;
            }
        }
    }
    let plane = height * width;
    Some(NonFinitePixels {
        count,
        band: first / plane,
        y: first % plane / width,
        x: first % width,
        value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_locates_and_masks() {
        // 2 bands of 2 × 3.
        let mut cutout = vec![1.0f32; 12];
        cutout[10] = f32::NEG_INFINITY;
        cutout[11] = f32::NAN;
        let mut copy = cutout.clone();
        let found = screen_nonfinite(&mut copy, 2, 3, false).expect("two");
        assert_eq!((found.count, found.band, found.y, found.x), (2, 1, 1, 1));
        assert_eq!(found.value, f32::NEG_INFINITY);
        assert!(copy[11].is_nan(), "reject mode leaves the values");
        let masked = screen_nonfinite(&mut cutout, 2, 3, true).expect("two");
        assert_eq!(masked.count, 2);
        assert_eq!(&cutout[9..], [1.0, 0.0, 0.0]);
        assert_eq!(screen_nonfinite(&mut cutout, 2, 3, true), None);
        assert_eq!(
            found.describe(12),
            "2 of 12 pixels are not finite (the first, -inf, at y = 1, x = 1)"
        );
    }
}
