import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { sanitizeFilename } from '../../src/integrations/crowd-prediction/crowd-prediction.client';

describe('sanitizeFilename', () => {
  it('keeps the text after the last / or \\', () => {
    assert.equal(sanitizeFilename('../../etc/passwd', 'image/jpeg'), 'passwd');
    assert.equal(sanitizeFilename('C:\\Users\\cam\\capture.jpg', 'image/jpeg'), 'capture.jpg');
    assert.equal(sanitizeFilename('a/b\\c/d.png', 'image/png'), 'd.png');
  });

  it('replaces characters outside [A-Za-z0-9._-] per code point', () => {
    assert.equal(sanitizeFilename('my photo (1).jpg', 'image/jpeg'), 'my_photo__1_.jpg');
    assert.equal(sanitizeFilename('café.jpg', 'image/jpeg'), 'caf_.jpg');
    assert.equal(sanitizeFilename('😀.png', 'image/png'), '_.png');
    assert.equal(sanitizeFilename('a\u0000b;rm -rf.jpg', 'image/jpeg'), 'a_b_rm_-rf.jpg');
  });

  it('strips leading dots and cuts to 100 characters', () => {
    assert.equal(sanitizeFilename('.htaccess', 'image/jpeg'), 'htaccess');
    assert.equal(sanitizeFilename('...x.jpg', 'image/jpeg'), 'x.jpg');
    assert.equal(sanitizeFilename(`${'a'.repeat(150)}.jpg`, 'image/jpeg'), 'a'.repeat(100));
  });

  it('falls back to upload.<ext> when nothing is left', () => {
    assert.equal(sanitizeFilename('', 'image/jpeg'), 'upload.jpg');
    assert.equal(sanitizeFilename('...', 'image/png'), 'upload.png');
    assert.equal(sanitizeFilename('../', 'image/webp'), 'upload.webp');
    assert.equal(sanitizeFilename(undefined, 'image/webp'), 'upload.webp');
  });

  it('always yields a safe, non-empty name of at most 100 characters', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), fc.constantFrom('image/jpeg', 'image/png', 'image/webp'), (name, mime) => {
        const out = sanitizeFilename(name, mime);
        assert.match(out, /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}$/);
      }),
    );
  });
});
