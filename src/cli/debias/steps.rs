//! Which steps a study runs: parsed from `[debias] steps` or `--steps`, with their order and
//! what each needs from the steps before it.

/// What each step is, for reports.
pub const STEP_NAMES: [&str; 5] = [
    "0 baseline",
    "1 factorised",
    "2 balanced",
    "3 extended labels",
    "4 bulk-bias",
];

/// The steps as a sorted set, checked: each in 0–4; 2 and 4 need 1 (the factorised model), 3
/// needs 2 (its labels are fitted on the Step 2 estimates, research notes §1.9).
pub fn check_steps(steps: &[usize]) -> Result<Vec<usize>, String> {
    let mut sorted = steps.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    if sorted.is_empty() {
        return Err("debias.steps: give at least one step (0–4)".into());
    }
    if let Some(&bad) = sorted.iter().find(|&&s| s >= STEP_NAMES.len()) {
        return Err(format!(
            "debias.steps: unknown step {bad} (the steps are 0, 1, 2, 3, 4)"
        ));
    }
    let has = |s| sorted.contains(&s);
    for (step, needs, why) in [
        (2, 1, "it fine-tunes the heads of the Step 1 model"),
        (3, 2, "its labels are fitted on the Step 2 estimates"),
        (4, 1, "it calibrates the estimates of the factorised model"),
    ] {
        if has(step) && !has(needs) {
            return Err(format!(
                "debias.steps: step {step} needs step {needs} ({why})"
            ));
        }
    }
    Ok(sorted)
}

/// Parses `--steps 0,1,2` into step numbers.
pub fn parse_steps(text: &str) -> Result<Vec<usize>, String> {
    text.split(',')
        .map(|s| {
            s.trim()
                .parse::<usize>()
                .map_err(|_| format!("--steps: '{}' is not a step number (0–4)", s.trim()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_checked() {
        assert_eq!(check_steps(&[3, 1, 2, 2]).unwrap(), vec![1, 2, 3]);
        assert!(check_steps(&[0, 5]).unwrap_err().contains("unknown step 5"));
        assert!(check_steps(&[1, 3]).unwrap_err().contains("needs step 2"));
        assert!(check_steps(&[0, 4]).unwrap_err().contains("needs step 1"));
        assert!(check_steps(&[]).is_err());
        assert_eq!(parse_steps("0, 1,4").unwrap(), vec![0, 1, 4]);
        assert!(parse_steps("0,x").unwrap_err().contains("'x'"));
    }
}
