import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodedBytes, dimensionsAllowed, readImageInfo, sniffImageType } from '../../src/detection/image-sniff';
import { jpeg, jpegDeclaring, png, pngBomb, pngDeclaring, webp } from '../support/images';

describe('image sniffing', () => {
  it('recognizes JPEG, PNG and WebP by magic bytes and reads their dimensions', async () => {
    const cases: [Buffer, string, number, number, number][] = [
      [await jpeg(64, 48), 'image/jpeg', 64, 48, 3],
      [await png(33, 17), 'image/png', 33, 17, 4], // RGBA
      [await webp(40, 30), 'image/webp', 40, 30, 3],
      [await webp(41, 29, { lossless: true }), 'image/webp', 41, 29, 4],
      [await webp(25, 26, { alpha: true }), 'image/webp', 25, 26, 4],
    ];
    for (const [buf, type, w, h, channels] of cases) {
      assert.deepEqual(readImageInfo(buf), { mimeType: type, width: w, height: h, channels, bytesPerSample: 1 }, `${type} ${w}x${h}`);
    }
  });

  it('reads progressive JPEGs and skips EXIF segments before the frame header', async () => {
    const sharp = (await import('sharp')).default;
    const buf = await sharp({ create: { width: 70, height: 20, channels: 3, background: '#123456' } })
      .withMetadata({ orientation: 6 })
      .jpeg({ progressive: true })
      .toBuffer();
    assert.deepEqual(readImageInfo(buf), { mimeType: 'image/jpeg', width: 70, height: 20, channels: 3, bytesPerSample: 1 });
  });

  it('ignores names and declared types: text, empty and truncated files are not images', () => {
    assert.equal(sniffImageType(Buffer.alloc(0)), null);
    assert.equal(sniffImageType(Buffer.from('GIF89a......')), null);
    assert.equal(sniffImageType(Buffer.from('root:x:0:0:root:/root:/bin/bash\n')), null);
    assert.equal(readImageInfo(Buffer.from([0xff, 0xd8, 0xff])), null, 'JPEG magic without a frame header');
    assert.equal(readImageInfo(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])), null, 'PNG signature alone');
    assert.equal(readImageInfo(Buffer.from('RIFF\x10\x00\x00\x00WEBPVP8 ', 'latin1')), null, 'WebP without a frame');
  });

  it('reads declared dimensions of headers without pixel data', () => {
    assert.deepEqual(readImageInfo(pngDeclaring(50000, 50000)), { mimeType: 'image/png', width: 50000, height: 50000, channels: 3, bytesPerSample: 1 });
    assert.deepEqual(readImageInfo(jpegDeclaring(20000, 100)), { mimeType: 'image/jpeg', width: 20000, height: 100, channels: 3, bytesPerSample: 1 });
    assert.equal(readImageInfo(jpegDeclaring(0, 100)), null, 'zero width is unreadable');
  });

  it('tells the decoded size from the header: 16-bit and alpha count, so a small interlaced PNG can weigh 400 MB', async () => {
    const bomb = readImageInfo(pngBomb(7071, 7071, { bitDepth: 16, colourType: 6, interlace: true }).subarray(0, 64));
    assert.deepEqual(bomb, { mimeType: 'image/png', width: 7071, height: 7071, channels: 4, bytesPerSample: 2 });
    assert.equal(decodedBytes(bomb!), 7071 * 7071 * 8); // 399,996,328 bytes: over the 128 MiB default
    assert.ok(dimensionsAllowed(bomb!), 'the pixel count alone would let it through');
    const rgba8 = readImageInfo(await png(10, 10));
    assert.equal(decodedBytes(rgba8!), 400);
    assert.equal(decodedBytes(readImageInfo(await jpeg(10, 10))!), 300);
    const grey16 = readImageInfo(pngBomb(100, 10, { bitDepth: 16 }));
    assert.equal(grey16?.bytesPerSample, 2);
    // a 12-bit JPEG's precision byte is read too
    const j12 = jpegDeclaring(100, 10);
    j12[2 + 18 + 4] = 12; // SOI(2) + APP0(18) + FF C0 + length(2): precision
    assert.equal(readImageInfo(j12)?.bytesPerSample, 2);
  });

  it('allows at most 16384 px per side and 50,000,000 px in total', () => {
    assert.equal(dimensionsAllowed({ width: 16384, height: 3051 }), true); // 49,987,584 px
    assert.equal(dimensionsAllowed({ width: 16384, height: 3052 }), false); // 50,003,968 px
    assert.equal(dimensionsAllowed({ width: 16385, height: 1 }), false);
    assert.equal(dimensionsAllowed({ width: 1, height: 16385 }), false);
    assert.equal(dimensionsAllowed({ width: 5000, height: 10000 }), true); // exactly 50,000,000
  });
});
