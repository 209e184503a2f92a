/**
 * A short name for the browser behind a User-Agent header ("Firefox on Windows"), so a person
 * can tell their web sessions apart in the list. Only a label: the header is the client's own
 * claim and decides nothing.
 */
export function browserLabel(userAgent: string | undefined): string {
  const ua = userAgent ?? '';
  // Order matters: Edge and Opera also say "Chrome", Chrome also says "Safari".
  const browser = [
    [/\bEdg(?:e|A|iOS)?\//, 'Edge'],
    [/\bOPR\//, 'Opera'],
    [/\bFirefox\//, 'Firefox'],
    [/\bHeadlessChrome\//, 'Headless Chrome'],
    [/\bChrom(?:e|ium)\//, 'Chrome'],
    [/\bSafari\//, 'Safari'],
    [/^curl\//, 'curl'],
  ].find(([re]) => (re as RegExp).test(ua))?.[1] as string | undefined;
  const os = [
    [/\b(?:iPhone|iPad)\b/, 'iOS'],
    [/\bAndroid\b/, 'Android'],
    [/\bWindows\b/, 'Windows'],
    [/\bMac OS X\b/, 'macOS'],
    [/\bCrOS\b/, 'ChromeOS'],
    [/\bLinux\b/, 'Linux'],
  ].find(([re]) => (re as RegExp).test(ua))?.[1] as string | undefined;
  if (browser && os) return `${browser} on ${os}`;
  if (browser ?? os) return (browser ?? os)!;
  return 'Unknown browser';
}
