/** What an action on the page just did, or why it failed; announced to screen readers. */
export interface Message {
  text: string;
  error?: boolean;
}

export function Notice({ message }: { message: Message | null }) {
  if (!message) return null;
  return (
    <p class={message.error ? 'error' : 'notice'} role="status">
      {message.text}
    </p>
  );
}
