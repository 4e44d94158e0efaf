//! Frames: a 4-byte big-endian length, then the body (one stanza).
//!
//! The decoder is incremental: feed it the decrypted Noise plaintexts in
//! order and take whole frames out. It refuses a frame longer than the limit
//! as soon as the length is known, before buffering the body.

use super::error::WireError;

/// The largest frame body (PROTOCOL.md §2.3).
pub const MAX_FRAME: usize = 512 * 1024;

/// Encodes one frame.
pub fn encode_frame(body: &[u8]) -> Result<Vec<u8>, WireError> {
    if body.len() > MAX_FRAME {
        return Err(WireError::FrameTooLarge {
            size: body.len(),
            limit: MAX_FRAME,
        });
    }
    let len = u32::try_from(body.len()).map_err(|_| WireError::FrameTooLarge {
        size: body.len(),
        limit: MAX_FRAME,
    })?;
    let mut out = Vec::with_capacity(body.len().saturating_add(4));
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(body);
    Ok(out)
}

/// Splits a byte stream into frames.
#[derive(Debug)]
pub struct FrameDecoder {
    buf: Vec<u8>,
    limit: usize,
}

impl Default for FrameDecoder {
    fn default() -> Self {
        Self::new(MAX_FRAME)
    }
}

impl FrameDecoder {
    /// A decoder that refuses frames longer than `limit`.
    pub fn new(limit: usize) -> Self {
        Self {
            buf: Vec::new(),
            limit,
        }
    }

    /// Appends received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole frame, `Ok(None)` when more bytes are needed.
    /// Keepalive frames (length 0) are skipped.
    pub fn next_frame(&mut self) -> Result<Option<Vec<u8>>, WireError> {
        loop {
            let Some(head) = self.buf.get(..4) else {
                return Ok(None);
            };
            let mut len_bytes = [0u8; 4];
            len_bytes.copy_from_slice(head);
            let len = u32::from_be_bytes(len_bytes) as usize;
            if len > self.limit {
                return Err(WireError::FrameTooLarge {
                    size: len,
                    limit: self.limit,
                });
            }
            let too_large = WireError::FrameTooLarge {
                size: len,
                limit: self.limit,
            };
            let end = len.checked_add(4).ok_or(too_large)?;
            let Some(body) = self.buf.get(4..end) else {
                return Ok(None);
            };
            let body = body.to_vec();
            self.buf.drain(..end);
            if len == 0 {
                continue;
            }
            return Ok(Some(body));
        }
    }

    /// Checks that the stream ended between frames.
    pub fn finish(&self) -> Result<(), WireError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(WireError::Truncated {
                buffered: self.buf.len(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_split_and_joined_across_pushes() {
        let mut bytes = encode_frame(b"<a/>").expect("frame");
        bytes.extend(encode_frame(b"").expect("keepalive"));
        bytes.extend(encode_frame(b"<b x=\"1\"/>").expect("frame"));
        let mut d = FrameDecoder::default();
        let mut out = Vec::new();
        for chunk in bytes.chunks(3) {
            d.push(chunk);
            while let Some(f) = d.next_frame().expect("valid") {
                out.push(f);
            }
        }
        assert_eq!(out, vec![b"<a/>".to_vec(), b"<b x=\"1\"/>".to_vec()]);
        assert_eq!(d.finish(), Ok(()));
    }

    #[test]
    fn oversize_frame_is_refused_before_its_body_arrives() {
        let mut d = FrameDecoder::default();
        d.push(&((MAX_FRAME as u32) + 1).to_be_bytes());
        assert_eq!(
            d.next_frame(),
            Err(WireError::FrameTooLarge {
                size: MAX_FRAME + 1,
                limit: MAX_FRAME
            })
        );
        assert!(encode_frame(&vec![0; MAX_FRAME + 1]).is_err());
    }

    #[test]
    fn truncated_stream_is_reported() {
        let mut d = FrameDecoder::default();
        d.push(&[0, 0, 0, 9, b'<']);
        assert_eq!(d.next_frame(), Ok(None));
        assert_eq!(d.finish(), Err(WireError::Truncated { buffered: 5 }));
    }
}
