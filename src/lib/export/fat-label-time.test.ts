import { describe, expect, it } from 'vitest';
import { dosDateTime } from './fat-label-time';

describe('dosDateTime', () => {
  it('packs a UTC moment as FAT does: years from 1980, two-second steps', () => {
    // 2023-11-14 22:13:20 UTC
    const { date, time } = dosDateTime(1700000000);
    expect([date >> 9, (date >> 5) & 15, date & 31]).toEqual([43, 11, 14]);
    expect([time >> 11, (time >> 5) & 63, (time & 31) * 2]).toEqual([22, 13, 20]);
  });
});
