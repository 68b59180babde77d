//! A minimal DER reader: enough to walk PKCS#7 signatures (module
//! signature trailers) and X.509 certificates (signing keys) without a
//! crypto library. Definite lengths only, as DER requires.

// A parser of untrusted bytes: no indexing that can panic (issue #15).
#![deny(clippy::indexing_slicing)]

/// One element: (tag, contents, total bytes consumed).
pub fn tlv(data: &[u8]) -> Result<(u8, &[u8], usize), &'static str> {
    let tag = *data.first().ok_or("unexpected end of data")?;
    let first = *data.get(1).ok_or("unexpected end of data")?;
    let (len, hdr) = if first < 0x80 {
        (first as usize, 2)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 {
            return Err("unsupported length encoding");
        }
        let bytes = data.get(2..2 + n).ok_or("unexpected end of data")?;
        (
            bytes.iter().fold(0usize, |acc, &b| (acc << 8) | b as usize),
            2 + n,
        )
    };
    let body = data
        .get(hdr..hdr.checked_add(len).ok_or("length overflow")?)
        .ok_or("length past end")?;
    Ok((tag, body, hdr + len))
}

/// The elements inside a constructed element's contents, as (tag, contents).
pub fn children(mut data: &[u8]) -> Result<Vec<(u8, &[u8])>, &'static str> {
    let mut out = Vec::new();
    while !data.is_empty() {
        let (tag, body, used) = tlv(data)?;
        out.push((tag, body));
        data = data
            .get(used..)
            .ok_or("DER length runs past its container")?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_lengths() {
        assert_eq!(tlv(&[0x02, 0x01, 0x05]).unwrap(), (0x02, &[0x05][..], 3));
        let mut long = vec![0x04, 0x81, 0x80];
        long.extend(std::iter::repeat_n(7, 0x80));
        assert_eq!(tlv(&long).unwrap().1.len(), 0x80);
        assert!(tlv(&[0x30, 0x85, 0, 0, 0, 0, 1]).is_err());
        assert!(tlv(&[0x30, 0x05, 1]).is_err());
        assert_eq!(children(&[0x02, 0x01, 0x01, 0x05, 0x00]).unwrap().len(), 2);
    }
}
