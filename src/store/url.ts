/** @file Store URLs as they may be shown: the password (if any) removed, for `url`, errors, logs and profiles. */

/**
 * `url` without its password, in the userinfo or as a `password` query parameter (user, host, port,
 * database and other parameters kept); a URL that does not parse has everything before '@' masked.
 */
export function withoutPassword(url: string): string {
  try {
    const u = new URL(url);
    if (u.password === '' && !u.searchParams.has('password')) return url;
    u.password = '';
    u.searchParams.delete('password');
    return u.href;
  } catch {
    return url.replace(/\/\/[^/@]*@/, '//***@');
  }
}
