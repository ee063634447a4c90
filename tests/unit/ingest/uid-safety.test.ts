import { isAbsolute, normalize } from 'node:path';

import { instanceRelativePath } from '../../../src/storage/paths';
import { InvalidUidError, validateUid } from '../../../src/storage/uid';

describe('UID and path safety', () => {
  it('accepts dotted digits and strips the NUL padding of the wire', () => {
    expect(validateUid('SOPInstanceUID', '1.2.840.10008.5.1.4.1.1.2')).toBe(
      '1.2.840.10008.5.1.4.1.1.2',
    );
    expect(validateUid('SOPInstanceUID', '1.2.3\0')).toBe('1.2.3');
  });

  it.each([
    ['a slash', '1.2/3'],
    ['a parent reference', '..'],
    ['a dotted parent path', '1.2/../../etc'],
    ['letters', '1.2.abc'],
    ['an empty component', '1..2'],
    ['a leading dot', '.1.2'],
    ['a trailing dot', '1.2.'],
    ['a space', '1.2 3'],
    ['a backslash', '1\\2'],
    ['the empty string', ''],
    ['65 characters', '1.' + '2'.repeat(63)],
  ])('BAD UID - refuses %s and quotes the value', (_what, value) => {
    expect(() => validateUid('SeriesInstanceUID', value)).toThrow(InvalidUidError);
    expect(() => validateUid('SeriesInstanceUID', value)).toThrow(JSON.stringify(value));
  });

  it('BAD UID - refuses a value that is not a string', () => {
    expect(() => validateUid('StudyInstanceUID', ['1.2'])).toThrow(/not a string/);
  });

  it('accepts exactly 64 characters', () => {
    const uid = '1.' + '2'.repeat(62);
    expect(validateUid('SOPInstanceUID', uid)).toHaveLength(64);
  });

  it('builds a relative path under instances/ from validated UIDs only', () => {
    const path = instanceRelativePath({
      studyInstanceUid: '1.2.3',
      seriesInstanceUid: '1.2.3.4',
      sopInstanceUid: '1.2.3.4.5',
    });

    expect(path).toBe('instances/1.2.3/1.2.3.4/1.2.3.4.5.dcm');
    expect(isAbsolute(path)).toBe(false);
    expect(normalize(path)).toBe(path);
  });

  it('BAD PATH - refuses to build a path from a traversal attempt', () => {
    expect(() =>
      instanceRelativePath({
        studyInstanceUid: '1.2.3',
        seriesInstanceUid: '../../..',
        sopInstanceUid: '1.2.3.4.5',
      }),
    ).toThrow(InvalidUidError);
  });
});
