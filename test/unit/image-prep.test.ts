import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { prepareImageForGemini, targetSide } from '../../src/integrations/gemini/image-prep';

describe('prepareImageForGemini', () => {
  it('picks a JPEG shrink-on-load size in 512–1024 and 1024 otherwise', () => {
    assert.equal(targetSide(1920, 'jpeg'), 960);
    assert.equal(targetSide(3000, 'jpeg'), 750);
    assert.equal(targetSide(2048, 'jpeg'), 1024);
    assert.equal(targetSide(2049, 'jpeg'), 513);
    assert.equal(targetSide(9000, 'jpeg'), 1024);
    assert.equal(targetSide(1920, 'png'), 1024);
    assert.equal(targetSide(800, 'jpeg'), 1024);
  });

  it('decodes a 1080p JPEG straight to 960 × 540, keeping the aspect ratio', async () => {
    const frame = await sharp({ create: { width: 1920, height: 1080, channels: 3, background: '#336699' } }).jpeg().toBuffer();
    const out = await prepareImageForGemini(frame);
    assert.deepEqual([out.width, out.height], [960, 540]);
    const meta = await sharp(out.jpeg).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', 960, 540]);
  });

  it('sends an upright JPEG within 1024 px byte for byte, and re-encodes a rotated one', async () => {
    const small = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#808080' } }).jpeg({ quality: 70 }).toBuffer();
    const same = await prepareImageForGemini(small);
    assert.ok(same.jpeg.equals(small));
    const rotated = await sharp(small).withMetadata({ orientation: 6 }).toBuffer();
    const upright = await prepareImageForGemini(rotated);
    assert.deepEqual([upright.width, upright.height], [480, 640]);
    assert.ok(!upright.jpeg.equals(rotated));
  });
});
