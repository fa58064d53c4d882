//! JSON-like text messages for the compression benchmarks: arrays of order records with
//! varying ids, names, prices and timestamps, every message different (as real traffic is),
//! from a fixed seed so every run compresses the same bytes.

/// `count` different messages of at least `size` bytes (at most one record more).
pub fn messages(size: usize, count: usize) -> Vec<String> {
    const NAMES: [&str; 8] = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"];
    const SIDES: [&str; 2] = ["buy", "sell"];
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    (0..count)
        .map(|m| {
            let mut out = format!("{{\"seq\":{m},\"orders\":[");
            let mut i = 0;
            // At least `size`: the 1 KiB threshold (ours, ws's) must not skip compression.
            while out.len() + 2 < size {
                let r = next();
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&format!(
                    "{{\"id\":{},\"user\":\"{}\",\"side\":\"{}\",\"price\":{}.{:02},\"qty\":{},\"ts\":{}}}",
                    r % 1_000_000,
                    NAMES[(r >> 20) as usize % NAMES.len()],
                    SIDES[(r >> 24) as usize % 2],
                    100 + (r >> 28) % 900,
                    (r >> 40) % 100,
                    1 + (r >> 48) % 500,
                    1_764_600_000_000 + (r >> 8) % 10_000_000,
                ));
                i += 1;
            }
            out.push_str("]}");
            out
        })
        .collect()
}
