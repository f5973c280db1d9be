import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';

interface Ask {
  title: string;
  body: ComponentChildren;
  action: string;
  danger: boolean;
  resolve: (ok: boolean) => void;
}

/**
 * A modal <dialog> confirmation (keyboard: focus lands on Cancel, Escape cancels): destructive actions ask
 * first. Returns [element to render, ask()].
 */
export function useConfirm(): [ComponentChildren, (title: string, body: ComponentChildren, action: string, danger?: boolean) => Promise<boolean>] {
  const [ask, setAsk] = useState<Ask | null>(null);
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    if (ask && ref.current && !ref.current.open) ref.current.showModal();
  }, [ask]);
  const close = (ok: boolean) => {
    ref.current?.close();
    ask?.resolve(ok);
    setAsk(null);
  };
  const element = ask ? (
    <dialog ref={ref} class="confirm" onCancel={(e) => (e.preventDefault(), close(false))} aria-labelledby="confirm-title">
      <h2 id="confirm-title">{ask.title}</h2>
      <div class="confirm-body">{ask.body}</div>
      <div class="actions">
        <button type="button" autofocus onClick={() => close(false)}>
          Cancel
        </button>
        <button type="button" class={ask.danger ? 'danger' : 'primary'} onClick={() => close(true)}>
          {ask.action}
        </button>
      </div>
    </dialog>
  ) : null;
  const confirm = (title: string, body: ComponentChildren, action: string, danger = true) =>
    new Promise<boolean>((resolve) => setAsk({ title, body, action, danger, resolve }));
  return [element, confirm];
}
