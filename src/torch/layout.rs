//! zcnn's layouts to PyTorch's and back: the order of flat features after a flatten, and the
//! convolution and dense weights.

/// The order of a flat feature vector's features, as far as PyTorch interop cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FeatureOrder {
    /// The features have no spatial structure: zcnn and PyTorch order them alike.
    #[default]
    Plain,
    /// The first `positions · channels` features are a flattened channels-last
    /// `[positions, channels]` activation; any further features (appended scalars) follow.
    ChannelsLast { positions: usize, channels: usize },
}

impl FeatureOrder {
    /// PyTorch's index of zcnn's feature `j`: `position·C + c ↦ c·positions + position` inside
    /// the flattened block, unchanged after it.
    pub fn torch_index(self, j: usize) -> usize {
        match self {
            FeatureOrder::Plain => j,
            FeatureOrder::ChannelsLast {
                positions,
                channels,
            } => {
                if j < positions * channels {
                    (j % channels) * positions + j / channels
                } else {
                    j
                }
            }
        }
    }

    /// A per-feature vector (`[features]`) in PyTorch's order.
    pub fn to_torch(self, ours: &[f32]) -> Vec<f32> {
        let mut torch = vec![0.0; ours.len()];
        for (j, &v) in ours.iter().enumerate() {
            torch[self.torch_index(j)] = v;
        }
        torch
    }

    /// A per-feature vector from PyTorch's order into `ours`.
    pub fn from_torch(self, torch: &[f32], ours: &mut [f32]) {
        for (j, v) in ours.iter_mut().enumerate() {
            *v = torch[self.torch_index(j)];
        }
    }
}

/// A convolution weight from zcnn's `[spatial…, in, out]` to PyTorch's `[out, in, spatial…]`;
/// `spatial` is the number of kernel taps (`k`, or `kh·kw`).
pub fn conv_weight_to_torch(w: &[f32], spatial: usize, cin: usize, cout: usize) -> Vec<f32> {
    assert_eq!(w.len(), spatial * cin * cout, "conv weight length");
    let mut torch = vec![0.0; w.len()];
    for s in 0..spatial {
        for i in 0..cin {
            for o in 0..cout {
                torch[(o * cin + i) * spatial + s] = w[(s * cin + i) * cout + o];
            }
        }
    }
    torch
}

/// The inverse of [`conv_weight_to_torch`], into `w`.
pub fn conv_weight_from_torch(
    torch: &[f32],
    spatial: usize,
    cin: usize,
    cout: usize,
    w: &mut [f32],
) {
    assert_eq!(w.len(), spatial * cin * cout, "conv weight length");
    for s in 0..spatial {
        for i in 0..cin {
            for o in 0..cout {
                w[(s * cin + i) * cout + o] = torch[(o * cin + i) * spatial + s];
            }
        }
    }
}

/// A dense weight `[out, in]` with its columns in PyTorch's order.
pub fn dense_weight_to_torch(w: &[f32], out: usize, order: FeatureOrder) -> Vec<f32> {
    w.chunks_exact(w.len() / out.max(1))
        .flat_map(|row| order.to_torch(row))
        .collect()
}

/// The inverse of [`dense_weight_to_torch`], into `w`.
pub fn dense_weight_from_torch(torch: &[f32], out: usize, order: FeatureOrder, w: &mut [f32]) {
    let cols = w.len() / out.max(1);
    for (row, torch_row) in w.chunks_exact_mut(cols).zip(torch.chunks_exact(cols)) {
        order.from_torch(torch_row, row);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_last_index_moves_to_channels_first() {
        // [positions 2, channels 3] + 1 appended scalar: ours p·3 + c → torch c·2 + p.
        let order = FeatureOrder::ChannelsLast {
            positions: 2,
            channels: 3,
        };
        let torch: Vec<usize> = (0..7).map(|j| order.torch_index(j)).collect();
        assert_eq!(torch, vec![0, 2, 4, 1, 3, 5, 6]);
        let ours = [0.0, 1.0, 2.0, 10.0, 11.0, 12.0, 99.0];
        let t = order.to_torch(&ours);
        assert_eq!(t, vec![0.0, 10.0, 1.0, 11.0, 2.0, 12.0, 99.0]);
        let mut back = [0.0; 7];
        order.from_torch(&t, &mut back);
        assert_eq!(back, ours);
    }

    #[test]
    fn conv_weight_round_trip_and_layout() {
        // k 2, in 3, out 4: ours [k, in, out], torch [out, in, k].
        let w: Vec<f32> = (0..24).map(|v| v as f32).collect();
        let t = conv_weight_to_torch(&w, 2, 3, 4);
        // torch[o=1, i=2, k=1] = ours[k=1, i=2, o=1] = (1·3 + 2)·4 + 1.
        assert_eq!(t[(3 + 2) * 2 + 1], 21.0);
        let mut back = vec![0.0; 24];
        conv_weight_from_torch(&t, 2, 3, 4, &mut back);
        assert_eq!(back, w);
    }
}
