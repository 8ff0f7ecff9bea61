//! The driver wire format: a 4-byte big-endian length, then that many bytes of UTF-8 JSON.

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt};

/// Largest frame accepted from a driver (output is chunked well below this).
pub const MAX_FRAME: usize = 64 << 20;

/// Encode `payload` as one frame.
pub fn encode(payload: &[u8]) -> io::Result<Vec<u8>> {
    let len = u32::try_from(payload.len())
        .ok()
        .filter(|&n| n as usize <= MAX_FRAME)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "frame too large"))?;
    let mut out = Vec::with_capacity(4 + payload.len());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(payload);
    Ok(out)
}

/// Reads frames from a byte stream. [`FrameReader::next`] is cancel-safe: partial frames
/// stay buffered, so it can be used in `tokio::select!`.
#[derive(Debug)]
pub struct FrameReader<R> {
    inner: R,
    buf: Vec<u8>,
    pos: usize,
}

impl<R: AsyncRead + Unpin> FrameReader<R> {
    /// Wrap a byte stream.
    pub fn new(inner: R) -> Self {
        FrameReader {
            inner,
            buf: Vec::with_capacity(8192),
            pos: 0,
        }
    }

    /// The next frame's payload, or `None` at a clean end of stream.
    pub async fn next(&mut self) -> io::Result<Option<Vec<u8>>> {
        loop {
            if let Some(frame) = self.take()? {
                return Ok(Some(frame));
            }
            if self.pos > 0 {
                self.buf.drain(..self.pos);
                self.pos = 0;
            }
            self.buf.reserve(8192);
            if self.inner.read_buf(&mut self.buf).await? == 0 {
                return if self.buf.is_empty() {
                    Ok(None)
                } else {
                    Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "stream ended inside a frame",
                    ))
                };
            }
        }
    }

    fn take(&mut self) -> io::Result<Option<Vec<u8>>> {
        let avail = &self.buf[self.pos..];
        let Some(header) = avail.first_chunk::<4>() else {
            return Ok(None);
        };
        let len = u32::from_be_bytes(*header) as usize;
        if len > MAX_FRAME {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("frame of {len} bytes exceeds the limit"),
            ));
        }
        if avail.len() < 4 + len {
            self.buf.reserve(4 + len - avail.len());
            return Ok(None);
        }
        let frame = avail[4..4 + len].to_vec();
        self.pos += 4 + len;
        if self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        }
        Ok(Some(frame))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn round_trip_split_reads() {
        let mut bytes = encode(b"{\"a\":1}").unwrap();
        bytes.extend(encode(b"").unwrap());
        bytes.extend(encode("héllo".as_bytes()).unwrap());
        let (mut w, r) = tokio::io::duplex(3);
        let writer = tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            w.write_all(&bytes).await.unwrap();
        });
        let mut reader = FrameReader::new(r);
        assert_eq!(reader.next().await.unwrap().unwrap(), b"{\"a\":1}");
        assert_eq!(reader.next().await.unwrap().unwrap(), b"");
        assert_eq!(reader.next().await.unwrap().unwrap(), "héllo".as_bytes());
        writer.await.unwrap();
        assert!(reader.next().await.unwrap().is_none());
    }

    #[tokio::test]
    async fn truncated_and_oversized() {
        let mut reader = FrameReader::new(&[0u8, 0, 0, 5, b'a'][..]);
        assert_eq!(
            reader.next().await.unwrap_err().kind(),
            io::ErrorKind::UnexpectedEof
        );
        let mut reader = FrameReader::new(&[0xffu8, 0xff, 0xff, 0xff][..]);
        assert_eq!(
            reader.next().await.unwrap_err().kind(),
            io::ErrorKind::InvalidData
        );
    }
}
