//! The bits of the DNS wire format (RFC 1035) that DNS chaos needs, on raw
//! IPv4 packets as NFQUEUE hands them over: the question name of a query,
//! turning a query into its own error response in place, an A query for the
//! resolution probe and the rcode and addresses of its answer. Hand written
//! (a few dozen lines of header arithmetic) so the packet surgery and the
//! checksums stay in one place, with tests.

use std::net::Ipv4Addr;

/// RCODE 2 and 3.
pub const SERVFAIL: u8 = 2;
pub const NXDOMAIN: u8 = 3;

const UDP: u8 = 17;
const TCP: u8 = 6;

/// Where the DNS message starts in an IPv4 packet to or from port 53
/// (UDP; TCP after the 2-byte length prefix), and whether it is UDP.
fn dns_offset(pkt: &[u8]) -> Option<(usize, bool)> {
    if pkt.len() < 20 || pkt[0] >> 4 != 4 {
        return None;
    }
    let ihl = (pkt[0] & 0x0f) as usize * 4;
    match pkt[9] {
        UDP if pkt.len() >= ihl + 8 => Some((ihl + 8, true)),
        TCP if pkt.len() >= ihl + 20 => {
            let doff = (pkt[ihl + 12] >> 4) as usize * 4;
            let start = ihl + doff + 2;
            (doff >= 20 && pkt.len() > start).then_some((start, false))
        }
        _ => None,
    }
}

/// The question name of a DNS query (lower case, no trailing dot), if `msg`
/// is one with exactly one question.
pub fn query_name(msg: &[u8]) -> Option<String> {
    if msg.len() < 12 || msg[2] & 0x80 != 0 || u16::from_be_bytes([msg[4], msg[5]]) != 1 {
        return None;
    }
    read_name(msg, 12).map(|(name, _)| name)
}

/// The name at `at` (uncompressed, as in a question) and where it ends.
fn read_name(msg: &[u8], mut at: usize) -> Option<(String, usize)> {
    let mut labels = Vec::new();
    loop {
        let len = *msg.get(at)? as usize;
        at += 1;
        if len == 0 {
            break;
        }
        if len & 0xc0 != 0 {
            return None;
        }
        let label = msg.get(at..at + len)?;
        labels.push(String::from_utf8_lossy(label).to_ascii_lowercase());
        at += len;
    }
    Some((labels.join("."), at))
}

/// The question name of the DNS query in an IPv4 packet, and whether it is
/// carried over UDP. Over TCP the 2-byte length may come in a segment of its
/// own (a client writing it separately): then the message starts the payload.
pub fn packet_query(pkt: &[u8]) -> Option<(String, bool)> {
    let (off, udp) = dns_offset(pkt)?;
    let name = query_name(&pkt[off..]);
    let name = match name {
        None if !udp => query_name(&pkt[off - 2..]),
        n => n,
    };
    name.map(|n| (n, udp))
}

/// Whether `name` matches `pattern`: case-insensitive, `*` any run of
/// characters (so `*.internal` matches `db.internal`, not `internal`).
pub fn matches(pattern: &str, name: &str) -> bool {
    let p = pattern.trim_end_matches('.').to_ascii_lowercase();
    let n = name.trim_end_matches('.').to_ascii_lowercase();
    glob(p.as_bytes(), n.as_bytes())
}

fn glob(p: &[u8], n: &[u8]) -> bool {
    match p.split_first() {
        None => n.is_empty(),
        Some((b'*', rest)) => (0..=n.len()).any(|i| glob(rest, &n[i..])),
        Some((c, rest)) => n.first() == Some(c) && glob(rest, &n[1..]),
    }
}

/// Turn a UDP DNS query packet into its answer with `rcode`: addresses and
/// ports swapped, QR and RA set, the question kept and everything after it
/// (EDNS) cut, lengths and checksums fixed. `None` if it is not such a query.
pub fn answer_in_place(pkt: &[u8], rcode: u8) -> Option<Vec<u8>> {
    let (off, udp) = dns_offset(pkt)?;
    if !udp {
        return None;
    }
    let ihl = off - 8;
    let msg = &pkt[off..];
    query_name(msg)?;
    let (_, qname_end) = read_name(msg, 12)?;
    let question_end = qname_end + 4;
    if msg.len() < question_end {
        return None;
    }
    let mut out = pkt[..off + question_end].to_vec();
    // IPv4: swap the addresses, fix the total length.
    let (src, dst) = (pkt[12..16].to_vec(), pkt[16..20].to_vec());
    out[12..16].copy_from_slice(&dst);
    out[16..20].copy_from_slice(&src);
    let total = out.len() as u16;
    out[2..4].copy_from_slice(&total.to_be_bytes());
    out[8] = 64;
    // UDP: swap the ports, fix the length.
    let (sp, dp) = (pkt[ihl..ihl + 2].to_vec(), pkt[ihl + 2..ihl + 4].to_vec());
    out[ihl..ihl + 2].copy_from_slice(&dp);
    out[ihl + 2..ihl + 4].copy_from_slice(&sp);
    let udp_len = (out.len() - ihl) as u16;
    out[ihl + 4..ihl + 6].copy_from_slice(&udp_len.to_be_bytes());
    // DNS: QR, keep opcode and RD; RA and the rcode; one question, nothing else.
    let d = off;
    out[d + 2] |= 0x80;
    out[d + 2] &= !0x04; // not authoritative
    out[d + 3] = 0x80 | (rcode & 0x0f);
    for i in 6..12 {
        out[d + i] = 0;
    }
    fix_checksums(&mut out, ihl);
    Some(out)
}

/// The IPv4 header checksum and the UDP checksum (over the pseudo-header).
fn fix_checksums(p: &mut [u8], ihl: usize) {
    p[10] = 0;
    p[11] = 0;
    let c = checksum(&[&p[..ihl]]);
    p[10..12].copy_from_slice(&c.to_be_bytes());
    p[ihl + 6] = 0;
    p[ihl + 7] = 0;
    let len = (p.len() - ihl) as u16;
    let pseudo = [
        p[12],
        p[13],
        p[14],
        p[15],
        p[16],
        p[17],
        p[18],
        p[19],
        0,
        UDP,
        (len >> 8) as u8,
        len as u8,
    ];
    let c = match checksum(&[&pseudo, &p[ihl..]]) {
        0 => 0xffff,
        c => c,
    };
    p[ihl + 6..ihl + 8].copy_from_slice(&c.to_be_bytes());
}

/// The Internet checksum of the concatenated parts.
fn checksum(parts: &[&[u8]]) -> u16 {
    let mut sum = 0u32;
    let mut odd: Option<u8> = None;
    for part in parts {
        for &b in part.iter() {
            match odd.take() {
                Some(hi) => sum += u16::from_be_bytes([hi, b]) as u32,
                None => odd = Some(b),
            }
        }
    }
    if let Some(hi) = odd {
        sum += (hi as u32) << 8;
    }
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// A recursive A query for `name` with message id `id`.
pub fn a_query(id: u16, name: &str) -> Result<Vec<u8>, String> {
    let mut m = Vec::with_capacity(32 + name.len());
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.trim_end_matches('.').split('.') {
        if label.is_empty() || label.len() > 63 {
            return Err(format!("`{name}` is not a valid DNS name"));
        }
        m.push(label.len() as u8);
        m.extend_from_slice(label.as_bytes());
    }
    m.extend_from_slice(&[0, 0, 1, 0, 1]);
    Ok(m)
}

/// The rcode and the IPv4 addresses of the answer to query `id`; `None` if
/// `msg` is not that answer.
pub fn parse_answer(id: u16, msg: &[u8]) -> Option<(u8, Vec<Ipv4Addr>)> {
    if msg.len() < 12 || msg[..2] != id.to_be_bytes() || msg[2] & 0x80 == 0 {
        return None;
    }
    let rcode = msg[3] & 0x0f;
    let qd = u16::from_be_bytes([msg[4], msg[5]]);
    let an = u16::from_be_bytes([msg[6], msg[7]]);
    let mut at = 12;
    for _ in 0..qd {
        at = skip_name(msg, at)? + 4;
    }
    let mut addrs = Vec::new();
    for _ in 0..an {
        at = skip_name(msg, at)?;
        let h = msg.get(at..at + 10)?;
        let (rtype, class) = (
            u16::from_be_bytes([h[0], h[1]]),
            u16::from_be_bytes([h[2], h[3]]),
        );
        let len = u16::from_be_bytes([h[8], h[9]]) as usize;
        let data = msg.get(at + 10..at + 10 + len)?;
        if rtype == 1 && class == 1 && len == 4 {
            addrs.push(Ipv4Addr::new(data[0], data[1], data[2], data[3]));
        }
        at += 10 + len;
    }
    Some((rcode, addrs))
}

/// Past a (possibly compressed) name.
fn skip_name(msg: &[u8], mut at: usize) -> Option<usize> {
    loop {
        let len = *msg.get(at)?;
        if len & 0xc0 == 0xc0 {
            return Some(at + 2);
        }
        at += 1 + len as usize;
        if len == 0 {
            return Some(at);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An IPv4/UDP packet 172.18.0.2:40000 -> 127.0.0.11:53 carrying `dns`,
    /// with an EDNS OPT record after the question, checksums right.
    fn udp_query(dns: &[u8]) -> Vec<u8> {
        let mut dns = dns.to_vec();
        dns[11] = 1; // ARCOUNT
        dns.extend_from_slice(&[0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0]);
        let mut p = vec![0x45, 0, 0, 0, 0x12, 0x34, 0x40, 0, 64, UDP, 0, 0];
        p.extend_from_slice(&[172, 18, 0, 2, 127, 0, 0, 11]);
        p.extend_from_slice(&40000u16.to_be_bytes());
        p.extend_from_slice(&53u16.to_be_bytes());
        p.extend_from_slice(&((8 + dns.len()) as u16).to_be_bytes());
        p.extend_from_slice(&[0, 0]);
        p.extend_from_slice(&dns);
        let total = p.len() as u16;
        p[2..4].copy_from_slice(&total.to_be_bytes());
        fix_checksums(&mut p, 20);
        p
    }

    #[test]
    fn a_query_names_its_question_and_globs_match_case_insensitively() {
        let q = a_query(7, "Store.Internal.").unwrap();
        assert_eq!(query_name(&q).as_deref(), Some("store.internal"));
        let p = udp_query(&q);
        assert_eq!(packet_query(&p), Some(("store.internal".into(), true)));
        assert!(matches("store.internal", "STORE.internal."));
        assert!(matches("*.internal", "store.internal"));
        assert!(!matches("*.internal", "internal"));
        assert!(matches("st*e", "store") && matches("*", "anything"));
        assert!(!matches("store", "store2") && !matches("store", "api"));
        assert!(a_query(1, "a..b").is_err());
        assert!(a_query(1, &"x".repeat(64)).is_err());
    }

    #[test]
    fn a_query_becomes_its_own_error_answer_with_valid_checksums() {
        let q = a_query(0xbeef, "store").unwrap();
        let p = udp_query(&q);
        for rcode in [NXDOMAIN, SERVFAIL] {
            let a = answer_in_place(&p, rcode).unwrap();
            assert_eq!(&a[12..16], &[127, 0, 0, 11], "from the resolver");
            assert_eq!(&a[16..20], &[172, 18, 0, 2], "to the asker");
            assert_eq!(u16::from_be_bytes([a[20], a[21]]), 53);
            assert_eq!(u16::from_be_bytes([a[22], a[23]]), 40000);
            assert_eq!(u16::from_be_bytes([a[2], a[3]]) as usize, a.len());
            assert_eq!(a.len(), 20 + 8 + q.len(), "the EDNS record is cut");
            // A valid checksum sums to zero with itself in place.
            assert_eq!(checksum(&[&a[..20]]), 0, "IPv4 header checksum");
            let len = (a.len() - 20) as u16;
            let mut pseudo = a[12..20].to_vec();
            pseudo.extend_from_slice(&[0, UDP, (len >> 8) as u8, len as u8]);
            assert_eq!(checksum(&[&pseudo, &a[20..]]), 0, "UDP checksum");
            let (got, addrs) = parse_answer(0xbeef, &a[28..]).unwrap();
            assert_eq!((got, addrs.len()), (rcode, 0));
            assert_eq!(a[30] & 0x81, 0x81, "QR and RD");
            assert_eq!(a[31] & 0x80, 0x80, "RA");
        }
        // Not a query: an answer, a TCP segment, a short packet.
        let a = answer_in_place(&p, NXDOMAIN).unwrap();
        assert!(answer_in_place(&a, NXDOMAIN).is_none());
        assert!(answer_in_place(&p[..30], NXDOMAIN).is_none());
        let mut t = p.clone();
        t[9] = TCP;
        assert!(answer_in_place(&t, NXDOMAIN).is_none());
    }

    #[test]
    fn an_answer_gives_its_rcode_and_addresses_through_compressed_names() {
        let mut m = a_query(9, "store").unwrap();
        m[2] |= 0x80;
        m[3] = 0x80;
        m[7] = 2; // two answers
        for ip in [[10, 0, 0, 5], [10, 0, 0, 6]] {
            m.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 2, 88, 0, 4]);
            m.extend_from_slice(&ip);
        }
        let (rcode, addrs) = parse_answer(9, &m).unwrap();
        assert_eq!(rcode, 0);
        assert_eq!(
            addrs,
            [Ipv4Addr::new(10, 0, 0, 5), Ipv4Addr::new(10, 0, 0, 6)]
        );
        assert!(parse_answer(10, &m).is_none(), "another query's answer");
        assert!(parse_answer(9, &m[..m.len() - 3]).is_none(), "truncated");
    }
}
