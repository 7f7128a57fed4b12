/**
 * Column-type compatibility, pure: given the type a column has on blue and the type it has on green, how does the
 * change look to the blue application, and can every blue value be stored in green's column?
 *
 * Used by the diff (CT101/CT102/CT103) and by the replication preflight (`canAssign`: logical replication in text
 * mode applies blue's values to green's columns, so a narrowed column stops the apply worker).
 */
import type { ColumnType } from './catalog.js';

/**
 * - same: identical type.
 * - lossless: every value keeps its exact text form and meaning (varchar(10)→varchar(20), int→bigint).
 * - observable: every value fits, but clients can see the difference (representation, precision, time zone).
 * - narrowing: some values of blue's type no longer fit or get rounded (varchar(20)→varchar(10), bigint→int).
 * - incompatible: another type family (int→text, text→int, one enum→another); operators and client types change.
 */
export type TypeChange = 'same' | 'lossless' | 'observable' | 'narrowing' | 'incompatible';

export interface TypeCompatibility {
  change: TypeChange;
  /** Every value of blue's type is accepted by green's column without error or loss of meaning. */
  assignable: boolean;
  /** Half a sentence on why, for reports (`values longer than 10 characters no longer fit`). */
  reason: string;
}

const INT_RANK: Record<string, number> = { smallint: 1, integer: 2, bigint: 3 };
/** Decimal digits an integer type needs (for numeric(p,s) targets). */
const INT_DIGITS: Record<string, number> = { smallint: 5, integer: 10, bigint: 19 };
const STRING_TYPES = new Set(['text', 'character varying', 'character']);
const TIME_PRECISION_TYPES = new Set(['timestamp without time zone', 'timestamp with time zone', 'time without time zone', 'time with time zone']);
const LENGTH_TYPES = new Set(['character varying', 'character', 'bit varying', 'bit']);

/** Declared length of varchar/char/bit types; undefined when unlimited. */
function lengthOf(base: string, typmod: number): number | undefined {
  if (typmod < 0) return undefined;
  return base === 'bit' || base === 'bit varying' ? typmod : typmod - 4;
}

/** numeric(p,s) from its typmod; undefined when unconstrained. PostgreSQL 15 allows a negative scale. */
function numericOf(typmod: number): { precision: number; scale: number } | undefined {
  if (typmod < 0) return undefined;
  const t = typmod - 4;
  return { precision: (t >> 16) & 0xffff, scale: ((t & 0x7ff) ^ 1024) - 1024 };
}

/** True when any value at all can be stored as its text form (text, unlimited varchar). */
function isUnboundedText(t: ColumnType): boolean {
  return !t.isArray && (t.base === 'text' || (t.base === 'character varying' && t.typmod < 0));
}

function result(change: TypeChange, reason: string, assignable?: boolean): TypeCompatibility {
  return { change, reason, assignable: assignable ?? (change === 'same' || change === 'lossless' || change === 'observable') };
}

/** Classifies a type change from blue's point of view. */
export function classifyTypeChange(blue: ColumnType, green: ColumnType): TypeCompatibility {
  if (blue.name === green.name) return result('same', 'same type');
  if (blue.isArray !== green.isArray) {
    return result('incompatible', blue.isArray ? 'an array became a scalar' : 'a scalar became an array', isUnboundedText(green));
  }
  const element = classifyElement(blue, green);
  if (!blue.isArray) return element;
  // Arrays: the element rule applies to every element.
  return { ...element, reason: `array elements: ${element.reason}` };
}

function classifyElement(blue: ColumnType, green: ColumnType): TypeCompatibility {
  const b = blue.base;
  const g = green.base;
  if (b === g) return classifyModifier(b, blue.typmod, green.typmod);

  // Integers up and down the ladder, and into numeric / floating point.
  if (b in INT_RANK && g in INT_RANK) {
    return INT_RANK[g] > INT_RANK[b] ? result('lossless', `${g} holds every ${b}`) : result('narrowing', `${b} values beyond the ${g} range no longer fit`);
  }
  if (b in INT_RANK && g === 'numeric') {
    const n = numericOf(green.typmod);
    if (!n || n.precision - n.scale >= INT_DIGITS[b])
      return result('observable', `numeric holds every ${b}, but clients receive numeric instead of an integer`);
    return result('narrowing', `${b} values with more than ${n.precision - n.scale} digits no longer fit`);
  }
  if (b in INT_RANK && (g === 'double precision' || g === 'real')) {
    const exact = g === 'double precision' ? b !== 'bigint' : b === 'smallint';
    return exact
      ? result('observable', `${g} holds every ${b} exactly, but clients receive a float`)
      : result('narrowing', `large ${b} values lose precision in ${g}`);
  }
  if (b === 'real' && g === 'double precision') return result('observable', 'double precision holds every real, but values print with more digits');
  if (b === 'double precision' && g === 'real') return result('narrowing', 'double precision values lose precision in real');
  if ((b === 'real' || b === 'double precision') && g === 'numeric') {
    return numericOf(green.typmod)
      ? result('narrowing', `${b} values may not fit numeric(${numericOf(green.typmod)?.precision},${numericOf(green.typmod)?.scale})`)
      : result('observable', `numeric holds every ${b}, but clients receive numeric instead of a float`);
  }
  if (b === 'numeric' && (g in INT_RANK || g === 'real' || g === 'double precision'))
    return result('narrowing', `numeric values are rounded or overflow in ${g}`);

  // Strings.
  if (STRING_TYPES.has(b) && STRING_TYPES.has(g)) {
    const bl = lengthOf(b, blue.typmod);
    const gl = lengthOf(g, green.typmod);
    if (g === 'character') return result('narrowing', `character(${gl ?? 1}) pads or rejects values that ${b} allowed`);
    if (gl !== undefined && (bl === undefined || gl < bl)) return result('narrowing', `values longer than ${gl} characters no longer fit`);
    if (b === 'character') return result('observable', `${g} keeps the trailing spaces character(n) ignored in comparisons`);
    return result('lossless', `${green.name} holds every ${blue.name}`);
  }

  // Date and time.
  if (b === 'timestamp without time zone' && g === 'timestamp with time zone')
    return result('observable', 'values are now interpreted in the session time zone and returned with an offset');
  if (b === 'timestamp with time zone' && g === 'timestamp without time zone')
    return result('observable', 'values lose their time zone and are returned as local times');
  if (b === 'date' && (g === 'timestamp without time zone' || g === 'timestamp with time zone'))
    return result('observable', 'dates are returned as timestamps');
  if ((b === 'timestamp without time zone' || b === 'timestamp with time zone') && g === 'date') return result('narrowing', 'the time of day is lost');
  if (b === 'time without time zone' && g === 'time with time zone') return result('observable', 'times are returned with an offset');
  if (b === 'time with time zone' && g === 'time without time zone') return result('narrowing', 'the time zone offset is lost');

  // JSON.
  if ((b === 'json' && g === 'jsonb') || (b === 'jsonb' && g === 'json')) {
    return result(
      'observable',
      b === 'json' ? 'jsonb drops whitespace, duplicate keys and key order' : 'json keeps the text as written instead of normalising it',
    );
  }

  // Anything has a text form, so a text column accepts every value; but clients now get strings and operators
  // change, which is a different type family.
  if (isUnboundedText(green))
    return result('incompatible', `${blue.name} values become text: clients receive strings and ${blue.name} operators no longer apply`, true);
  if (blue.kind === 'e' || green.kind === 'e') return result('incompatible', 'values of one enum (or text) are not valid in another type');
  if (blue.kind === 'd' || green.kind === 'd') return result('incompatible', 'a domain type was exchanged: its constraints may reject values');
  return result('incompatible', `${green.name} is another type family than ${blue.name}`);
}

function classifyModifier(base: string, bt: number, gt: number): TypeCompatibility {
  if (LENGTH_TYPES.has(base)) {
    const bl = lengthOf(base, bt);
    const gl = lengthOf(base, gt);
    if (gl !== undefined && (bl === undefined || gl < bl)) return result('narrowing', `values longer than ${gl} no longer fit`);
    // character(n) and bit(n) pad to their length: a longer column changes what every value looks like.
    if (base === 'character' || base === 'bit') return result('observable', `values are padded to ${gl ?? 'another'} length`);
    return result('lossless', gl === undefined ? 'the length limit was lifted' : `the limit grew from ${bl} to ${gl}`);
  }
  if (base === 'numeric') {
    const b = numericOf(bt);
    const g = numericOf(gt);
    if (!g) return result('lossless', 'unconstrained numeric holds every value exactly');
    if (!b) return result('narrowing', `values beyond numeric(${g.precision},${g.scale}) no longer fit or are rounded`);
    if (g.scale < b.scale) return result('narrowing', `values are rounded to ${g.scale} decimal places`);
    if (g.precision - g.scale < b.precision - b.scale)
      return result('narrowing', `values with more than ${g.precision - g.scale} integer digits no longer fit`);
    if (g.scale > b.scale) return result('observable', `values are returned with ${g.scale} decimal places instead of ${b.scale}`);
    return result('lossless', `numeric(${g.precision},${g.scale}) holds every numeric(${b.precision},${b.scale})`);
  }
  if (TIME_PRECISION_TYPES.has(base)) {
    // -1 means the default (microsecond) precision, i.e. 6.
    const bp = bt < 0 ? 6 : bt;
    const gp = gt < 0 ? 6 : gt;
    if (gp < bp) return result('narrowing', `fractional seconds are rounded to ${gp} digits`);
    return result('lossless', 'the fractional-second precision grew');
  }
  if (base === 'interval') {
    if (gt < 0) return result('lossless', 'unrestricted interval holds every value');
    return result('narrowing', 'interval fields or precision were restricted');
  }
  // A type modifier we do not know the meaning of (e.g. an extension type): cannot prove that values still fit.
  return result('incompatible', `the type modifier of ${base} changed`);
}

/**
 * Whether every value of blue's column type can be written into green's column (what logical replication needs).
 * Narrowing and incompatible changes answer false, except that an unlimited text column accepts anything.
 */
export function canAssign(blue: ColumnType, green: ColumnType): boolean {
  return classifyTypeChange(blue, green).assignable;
}
