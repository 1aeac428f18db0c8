// The part of location.hash after the page id: `#/runs/12` → ['12'], `#/compare?runs=1,2` → query.
import { useEffect, useState } from 'react';

export interface HashLocation {
  segments: string[];
  query: URLSearchParams;
}

function current(): HashLocation {
  const raw = window.location.hash.replace(/^#\/?/, '');
  const [pathPart = '', queryPart = ''] = raw.split('?');
  return {
    segments: pathPart.split('/').slice(1).filter(Boolean).map(decodeURIComponent),
    query: new URLSearchParams(queryPart),
  };
}

export function useHashLocation(): HashLocation {
  const [loc, setLoc] = useState(current);
  useEffect(() => {
    const onChange = () => setLoc(current());
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return loc;
}

export function navigate(hash: string): void {
  window.location.hash = hash.startsWith('#') ? hash : `#${hash}`;
}
