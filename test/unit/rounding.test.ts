import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { carbonRatio, occupancyPercentage, roundHalfEven, roundHalfEvenString } from '../../src/detection/rounding';

describe('occupancyPercentage (Python round(p, 1) on the exact double)', () => {
  const cases: [number, number, string][] = [
    [1, 16, '6.2%'], // 6.25 exactly: tie to even
    [3, 16, '18.8%'], // 18.75 exactly: tie to even (up)
    [2, 3, '66.7%'],
    [12, 10, '120.0%'], // uncapped
    [23, 80, '28.7%'], // p = 28.749999999999996
    [49, 80, '61.3%'], // p = 61.25000000000001
    [3, 10, '30.0%'],
    [9, 10, '90.0%'],
    [0, 7, '0.0%'],
  ];
  for (const [d, c, want] of cases) {
    it(`${d}/${c} → ${want}`, () => {
      assert.equal(occupancyPercentage(d, c), want);
    });
  }
});

describe('roundHalfEven', () => {
  it('rounds the spec examples at 2 decimals', () => {
    assert.equal(roundHalfEven(0.125, 2), 0.12);
    assert.equal(roundHalfEven(2.675, 2), 2.67);
    assert.equal(roundHalfEven(0.135, 2), 0.14);
    assert.equal(roundHalfEven(0.375, 2), 0.38);
    assert.equal(roundHalfEven(8.14, 2), 8.14);
  });

  it('rounds ties to even at 0 decimals like Python', () => {
    assert.equal(roundHalfEven(0.5, 0), 0);
    assert.equal(roundHalfEven(1.5, 0), 2);
    assert.equal(roundHalfEven(2.5, 0), 2);
    assert.equal(roundHalfEven(-2.5, 0), -2);
    assert.equal(roundHalfEven(-0.125, 2), -0.12);
  });

  it('prints exactly the requested decimals', () => {
    assert.equal(roundHalfEvenString(120, 1), '120.0');
    assert.equal(roundHalfEvenString(-0.04, 1), '0.0');
    assert.equal(roundHalfEvenString(1e21, 1), '1e+21');
  });
});

describe('carbonRatio', () => {
  it('is detected / gemini_count at 4 decimals, half to even', () => {
    assert.equal(carbonRatio(1, 32), 0.0312); // 0.03125 tie
    assert.equal(carbonRatio(3, 57), 0.0526);
    assert.equal(carbonRatio(2, 3), 0.6667);
    assert.equal(carbonRatio(3, 5), 0.6);
    assert.equal(carbonRatio(7, 2), 3.5);
  });

  it('is 0 when Gemini counted nobody', () => {
    assert.equal(carbonRatio(4, 0), 0);
  });
});
