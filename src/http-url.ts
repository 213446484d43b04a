/** The one rule for the URLs hardkms sends HTTP requests to (Tatum API, externalUrl, alert webhook): http or https. */
export function isHttpScheme(url: URL): boolean {
  return url.protocol === 'http:' || url.protocol === 'https:';
}

/** Whether `text` is an absolute http:// or https:// URL. */
export function isHttpUrl(text: string): boolean {
  try {
    return isHttpScheme(new URL(text));
  } catch {
    return false;
  }
}
