import { useEffect, useState } from 'react';

/**
 * Hash routes (#/pools/…): the server serves one page at `/`, so a reload or a shared link never
 * needs a server-side fallback route.
 */
export function useRoute(): string[] {
  const read = () => window.location.hash.replace(/^#\/?/, '').split('?')[0]!.split('/').filter(Boolean).map(decodeURIComponent);
  const [parts, setParts] = useState(read);
  useEffect(() => {
    const onChange = () => setParts(read());
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return parts;
}

export const href = (...parts: string[]) => `#/${parts.map(encodeURIComponent).join('/')}`;
export const navigate = (...parts: string[]) => {
  window.location.hash = href(...parts);
};
