import { ValueTransformer } from 'typeorm';

/** bigint ids are returned as numbers (all ids fit in 2^53; the pg driver is told to parse int8). */
export const bigintToNumber: ValueTransformer = {
  to: (v: number | null | undefined) => v,
  from: (v: string | number | null) => (v === null ? null : Number(v)),
};
