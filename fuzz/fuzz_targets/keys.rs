//! The WireGuard key parser and the address and network parsers.
#![no_main]

use libfuzzer_sys::fuzz_target;
use onramp::domain::wireguard::{key_problem, parse_dns, parse_endpoint_host, parse_networks, parse_pool, WgKey};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let accepted = key_problem(s).is_none();
    // The two entry points agree, and an accepted key decodes to 32 bytes that are not all 0.
    assert_eq!(accepted, WgKey::parse("k", s).is_ok());
    if accepted {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD.decode(s.trim_matches(' ')).expect("accepted keys decode");
        assert_eq!(bytes.len(), 32);
        assert!(bytes.iter().any(|b| *b != 0));
    }
    if let Ok(pool) = parse_pool("a", s) {
        for cidr in pool {
            let used = std::collections::HashSet::new();
            if let Some(ip) = cidr.first_free(&used) {
                assert!(cidr.is_assignable(ip));
                assert_ne!(ip, cidr.gateway());
            }
        }
    }
    let _ = parse_networks("n", "x", s);
    let _ = parse_dns("d", s);
    let _ = parse_endpoint_host("e", s);
});
