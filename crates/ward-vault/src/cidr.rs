//! CIDR blocks that bind secret ids and tokens to source addresses.

use std::net::IpAddr;

use ipnet::IpNet;

use crate::error::{Result, VaultError};

/// Parses CIDR blocks given as a list or one comma-separated string; a bare
/// address counts as a block of one (`/32` or `/128`).
pub fn parse_list<S: AsRef<str>>(items: &[S]) -> Result<Vec<IpNet>> {
    let mut blocks = Vec::new();
    for item in items {
        for part in item
            .as_ref()
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            blocks.push(parse_block(part)?);
        }
    }
    Ok(blocks)
}

fn parse_block(text: &str) -> Result<IpNet> {
    if let Ok(block) = text.parse::<IpNet>() {
        return Ok(block.trunc());
    }
    text.parse::<IpAddr>()
        .map(IpNet::from)
        .map_err(|_| VaultError::InvalidCidr(format!("`{text}` is not an address or a CIDR block")))
}

/// Whether `address` lies in one of `blocks`; an empty list allows every
/// address. An unknown address never matches a non-empty list.
pub fn allows(blocks: &[IpNet], address: Option<IpAddr>) -> bool {
    if blocks.is_empty() {
        return true;
    }
    let Some(address) = address else { return false };
    let address = canonical(address);
    blocks.iter().any(|block| block.contains(&address))
}

/// Checks that every block of `requested` lies inside one of `allowed`
/// (an empty `allowed` allows anything).
pub fn check_subset(requested: &[IpNet], allowed: &[IpNet]) -> Result<()> {
    if allowed.is_empty() {
        return Ok(());
    }
    for block in requested {
        if !allowed.iter().any(|outer| outer.contains(block)) {
            return Err(VaultError::InvalidCidr(format!(
                "`{block}` is not within the role's bound CIDR blocks"
            )));
        }
    }
    Ok(())
}

/// Strings for storage.
pub fn to_strings(blocks: &[IpNet]) -> Vec<String> {
    blocks.iter().map(ToString::to_string).collect()
}

// An IPv4 client reaching a dual-stack socket shows up as `::ffff:a.b.c.d`.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        IpAddr::V4(_) => address,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lists_commas_and_bare_addresses() {
        let blocks = parse_list(&["10.0.0.0/8, 192.168.1.7", "::1"]).unwrap();
        assert_eq!(
            to_strings(&blocks),
            ["10.0.0.0/8", "192.168.1.7/32", "::1/128"]
        );
        assert!(parse_list(&["10.0.0.0/33"]).is_err());
        assert!(parse_list(&["nonsense"]).is_err());
    }

    #[test]
    fn allows_checks_membership() {
        let blocks = parse_list(&["10.1.0.0/16"]).unwrap();
        assert!(allows(&blocks, Some("10.1.2.3".parse().unwrap())));
        assert!(allows(&blocks, Some("::ffff:10.1.2.3".parse().unwrap())));
        assert!(!allows(&blocks, Some("10.2.0.1".parse().unwrap())));
        assert!(!allows(&blocks, None));
        assert!(allows(&[], None));
    }

    #[test]
    fn subset_must_lie_inside() {
        let role = parse_list(&["10.0.0.0/8"]).unwrap();
        assert!(check_subset(&parse_list(&["10.1.0.0/16"]).unwrap(), &role).is_ok());
        assert!(check_subset(&parse_list(&["11.0.0.0/16"]).unwrap(), &role).is_err());
        assert!(check_subset(&parse_list(&["11.0.0.0/16"]).unwrap(), &[]).is_ok());
    }
}
