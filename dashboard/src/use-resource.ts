import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

/** Data read from the API: re-read with reload(); the previous data stays shown while a re-read runs. */
export function useResource<T>(load: () => Promise<T>, deps: unknown[]): { data: T | undefined; error: Error | undefined; reload: () => void } {
  const [state, setState] = useState<{ data: T | undefined; error: Error | undefined }>({ data: undefined, error: undefined });
  const generation = useRef(0);
  const loader = useRef(load);
  loader.current = load;
  const reload = useCallback(() => {
    const mine = ++generation.current;
    loader.current().then(
      (data) => mine === generation.current && setState({ data, error: undefined }),
      (error: Error) => mine === generation.current && setState((s) => ({ data: s.data, error })),
    );
  }, []);
  useEffect(() => {
    setState({ data: undefined, error: undefined });
    reload();
  }, deps);
  return { ...state, reload };
}
