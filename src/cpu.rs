//! The SIMD features the binary was compiled for, checked against the running CPU. A binary
//! built with `-C target-cpu=native` on an AVX-512 machine would otherwise die with SIGILL on
//! an older one; `main` calls [`missing_features`] first and exits with a clear message.

/// The compile-time target features zcnn's kernels rely on that this CPU does not have,
/// comma-separated, or `None` when everything is there.
pub fn missing_features() -> Option<String> {
    let missing: Vec<&str> = required()
        .into_iter()
        .filter(|(_, present)| !present)
        .map(|(name, _)| name)
        .collect();
    (!missing.is_empty()).then(|| missing.join(", "))
}

/// (feature, present at run time) for every feature enabled at compile time.
#[cfg(target_arch = "x86_64")]
fn required() -> Vec<(&'static str, bool)> {
    let mut features = Vec::new();
    if cfg!(target_feature = "avx512f") {
        features.push(("avx512f", std::arch::is_x86_feature_detected!("avx512f")));
    }
    if cfg!(target_feature = "avx2") {
        features.push(("avx2", std::arch::is_x86_feature_detected!("avx2")));
    }
    if cfg!(target_feature = "fma") {
        features.push(("fma", std::arch::is_x86_feature_detected!("fma")));
    }
    features
}

#[cfg(not(target_arch = "x86_64"))]
fn required() -> Vec<(&'static str, bool)> {
    Vec::new()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_machine_that_built_the_tests_has_their_features() {
        assert_eq!(super::missing_features(), None);
    }
}
