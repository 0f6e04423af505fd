/** @file Store URLs as they may be shown: the password (if any) removed, for `url`, errors and logs. */

/** `url` without its password; a URL that does not parse has everything before '@' masked. */
export function withoutPassword(url: string): string {
  try {
    const u = new URL(url);
    if (u.password === '') return url;
    u.password = '';
    return u.href;
  } catch {
    return url.replace(/\/\/[^/@]*@/, '//***@');
  }
}
