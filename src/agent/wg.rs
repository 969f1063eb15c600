//! The WireGuard interface as the official `wg` tool shows and changes it. `wg` talks to
//! kernel interfaces over netlink and to userspace ones (wireguard-go, boringtun) over their
//! socket, so the agent works with both without knowing which it has.

use crate::web::gateway::{WireConfig, WirePeerSeen};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// Peers per `wg set` call: keeps the argument list far below the system's limit.
const PEERS_PER_CALL: usize = 200;

/// One peer as the interface has it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Peer {
    /// Allowed IPs, as `wg` prints them.
    pub allowed_ips: BTreeSet<String>,
    /// Latest handshake, unix seconds; 0 if never.
    pub latest_handshake: i64,
    /// Bytes received.
    pub rx_bytes: i64,
    /// Bytes sent.
    pub tx_bytes: i64,
}

/// The interface as `wg show <if> dump` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Interface {
    /// Its private key; `None` when unset.
    pub private_key: Option<String>,
    /// Its public key; `None` when unset.
    pub public_key: Option<String>,
    /// Its listen port.
    pub listen_port: u16,
    /// Peers by public key.
    pub peers: BTreeMap<String, Peer>,
}

fn key_or_none(s: &str) -> Option<String> {
    (s != "(none)" && !s.is_empty()).then(|| s.to_owned())
}

/// Parses `wg show <if> dump`: a line for the interface, then one per peer, tab-separated.
pub fn parse_dump(text: &str) -> Result<Interface, String> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let head: Vec<&str> = lines
        .next()
        .ok_or("wg printed nothing for the interface")?
        .split('\t')
        .collect();
    if head.len() < 3 {
        return Err(format!(
            "unexpected interface line from wg: {}",
            head.join(" ")
        ));
    }
    let mut iface = Interface {
        private_key: key_or_none(head[0]),
        public_key: key_or_none(head[1]),
        listen_port: head[2].parse().unwrap_or(0),
        peers: BTreeMap::new(),
    };
    for line in lines {
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() < 7 {
            return Err(format!("unexpected peer line from wg: {line}"));
        }
        let allowed_ips = if f[3] == "(none)" {
            BTreeSet::new()
        } else {
            f[3].split(',').map(|s| s.trim().to_owned()).collect()
        };
        iface.peers.insert(
            f[0].to_owned(),
            Peer {
                allowed_ips,
                latest_handshake: f[4].parse().unwrap_or(0),
                rx_bytes: f[5].parse().unwrap_or(0),
                tx_bytes: f[6].parse().unwrap_or(0),
            },
        );
    }
    Ok(iface)
}

/// What to change on the interface to make it equal to onramp's view.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    /// A private key to set.
    pub private_key: Option<String>,
    /// A listen port to set.
    pub listen_port: Option<u16>,
    /// Peers to remove.
    pub remove: Vec<String>,
    /// Peers to add, or whose allowed IPs to replace.
    pub set: Vec<(String, Vec<String>)>,
}

impl Plan {
    /// Whether nothing needs changing.
    pub fn is_empty(&self) -> bool {
        self.private_key.is_none()
            && self.listen_port.is_none()
            && self.remove.is_empty()
            && self.set.is_empty()
    }
}

/// The differences only: a peer whose allowed IPs did not change is left alone, so its
/// session and handshake survive.
pub fn plan(current: &Interface, want: &WireConfig) -> Plan {
    let mut p = Plan::default();
    if let Some(key) = &want.private_key {
        if current.private_key.as_deref() != Some(key.as_str()) {
            p.private_key = Some(key.clone());
        }
    }
    if current.listen_port != want.listen_port {
        p.listen_port = Some(want.listen_port);
    }
    let wanted: BTreeMap<&str, BTreeSet<String>> = want
        .peers
        .iter()
        .map(|peer| {
            (
                peer.public_key.as_str(),
                peer.allowed_ips.iter().cloned().collect(),
            )
        })
        .collect();
    for key in current.peers.keys() {
        if !wanted.contains_key(key.as_str()) {
            p.remove.push(key.clone());
        }
    }
    for (key, ips) in &wanted {
        if current.peers.get(*key).map(|peer| &peer.allowed_ips) != Some(ips) {
            p.set
                .push(((*key).to_owned(), ips.iter().cloned().collect()));
        }
    }
    p
}

/// Runs `wg` with the given arguments and optional standard input; returns its output.
fn run(wg: &Path, args: &[String], stdin: Option<&str>) -> Result<String, String> {
    let mut child = Command::new(wg)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", wg.display()))?;
    if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(input.as_bytes())
            .and_then(|()| pipe.write_all(b"\n"))
            .map_err(|e| format!("cannot write to wg: {e}"))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("wg did not finish: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
    }
}

/// Reads the interface.
pub fn show(wg: &Path, interface: &str) -> Result<Interface, String> {
    let text = run(
        wg,
        &["show".into(), interface.into(), "dump".into()],
        None,
    )
    .map_err(|e| {
        if e.contains("No such device") || e.contains("Unable to access interface") {
            format!(
                "the WireGuard interface {interface} does not exist: create it first (ip link add {interface} type wireguard, or wireguard-go {interface}) ({e})"
            )
        } else {
            e
        }
    })?;
    parse_dump(&text)
}

/// Applies a plan with as few `wg set` calls as the argument limit allows.
pub fn apply(wg: &Path, interface: &str, plan: &Plan) -> Result<(), String> {
    let mut first = vec!["set".to_owned(), interface.to_owned()];
    let mut stdin = None;
    if let Some(key) = &plan.private_key {
        // Never on the command line, where `ps` shows it.
        first.extend(["private-key".into(), "/dev/stdin".into()]);
        stdin = Some(key.as_str());
    }
    if let Some(port) = plan.listen_port {
        first.extend(["listen-port".into(), port.to_string()]);
    }
    let mut peer_args: Vec<Vec<String>> = plan
        .remove
        .iter()
        .map(|k| vec!["peer".into(), k.clone(), "remove".into()])
        .collect();
    peer_args.extend(plan.set.iter().map(|(k, ips)| {
        vec![
            "peer".into(),
            k.clone(),
            "allowed-ips".into(),
            ips.join(","),
        ]
    }));
    let mut calls: Vec<Vec<String>> = Vec::new();
    let mut chunks = peer_args.chunks(PEERS_PER_CALL);
    let mut head = first;
    head.extend(chunks.next().unwrap_or_default().iter().flatten().cloned());
    calls.push(head);
    for chunk in chunks {
        let mut call = vec!["set".to_owned(), interface.to_owned()];
        call.extend(chunk.iter().flatten().cloned());
        calls.push(call);
    }
    for (i, args) in calls.iter().enumerate() {
        if args.len() > 2 {
            run(wg, args, if i == 0 { stdin } else { None })?;
        }
    }
    Ok(())
}

/// The interface's peers as a report.
pub fn report(iface: &Interface) -> Vec<WirePeerSeen> {
    iface
        .peers
        .iter()
        .map(|(key, p)| WirePeerSeen {
            public_key: key.clone(),
            last_handshake: (p.latest_handshake > 0).then_some(p.latest_handshake),
            rx_bytes: p.rx_bytes,
            tx_bytes: p.tx_bytes,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::gateway::WirePeer;

    const DUMP: &str = "cHJpdg==\tcHVi\t51820\toff\n\
        AAA=\t(none)\t(none)\t10.0.0.2/32,fd00::2/128\t1700000000\t100\t200\t25\n\
        BBB=\t(none)\t198.18.0.2:4000\t10.0.0.3/32\t0\t0\t0\toff\n";

    fn want(peers: &[(&str, &[&str])]) -> WireConfig {
        WireConfig {
            version: "v".into(),
            location: "Office".into(),
            public_key: "cHVi".into(),
            private_key: Some("cHJpdg==".into()),
            listen_port: 51820,
            addresses: vec!["10.0.0.1/24".into()],
            peers: peers
                .iter()
                .map(|(k, ips)| WirePeer {
                    public_key: (*k).into(),
                    allowed_ips: ips.iter().map(|s| (*s).to_owned()).collect(),
                })
                .collect(),
        }
    }

    #[test]
    fn dumps_parse() {
        let i = parse_dump(DUMP).unwrap();
        assert_eq!(i.private_key.as_deref(), Some("cHJpdg=="));
        assert_eq!(i.listen_port, 51820);
        assert_eq!(i.peers.len(), 2);
        assert_eq!(i.peers["AAA="].latest_handshake, 1_700_000_000);
        assert_eq!(i.peers["AAA="].allowed_ips.len(), 2);
        assert_eq!(report(&i)[1].last_handshake, None);
        let empty = parse_dump("(none)\t(none)\t0\toff\n").unwrap();
        assert_eq!(empty.private_key, None);
        assert!(parse_dump("").is_err());
    }

    #[test]
    fn plans_touch_only_what_changed() {
        let i = parse_dump(DUMP).unwrap();
        let same = want(&[
            ("AAA=", &["fd00::2/128", "10.0.0.2/32"]),
            ("BBB=", &["10.0.0.3/32"]),
        ]);
        assert!(plan(&i, &same).is_empty(), "order does not matter");
        let changed = want(&[
            ("AAA=", &["10.0.0.2/32", "fd00::2/128"]),
            ("CCC=", &["10.0.0.4/32"]),
        ]);
        let p = plan(&i, &changed);
        assert_eq!(p.remove, vec!["BBB="]);
        assert_eq!(
            p.set,
            vec![("CCC=".to_owned(), vec!["10.0.0.4/32".to_owned()])]
        );
        assert_eq!(p.private_key, None);
        let mut rekeyed = same.clone();
        rekeyed.private_key = Some("bmV3".into());
        rekeyed.listen_port = 51821;
        let p = plan(&i, &rekeyed);
        assert_eq!(p.private_key.as_deref(), Some("bmV3"));
        assert_eq!(p.listen_port, Some(51821));
        assert!(p.set.is_empty() && p.remove.is_empty());
    }
}
