/** The screens' building blocks: a card, a labelled field, a list row, a delete button, a form. */
import type { ComponentChildren } from "preact";

export function Card({ title, children }: { title: string; children: ComponentChildren }) {
  return (
    <section class="card" aria-label={title}>
      <h2>{title}</h2>
      {children}
    </section>
  );
}

/**
 * A labelled input: the label is its name (what it is), the hint its description, so a screen
 * reader says "Display name, edit text, Shown when you log in…" rather than the hint alone.
 */
export function TextField(props: {
  id: string;
  label: string;
  hint?: string;
  value: string;
  disabled?: boolean;
  onChange: (value: string) => void;
}) {
  const hintId = `${props.id}-hint`;
  return (
    <>
      <label for={props.id}>{props.label}</label>
      {props.hint && (
        <p id={hintId} class="hint">
          {props.hint}
        </p>
      )}
      <input
        id={props.id}
        value={props.value}
        disabled={props.disabled}
        aria-describedby={props.hint ? hintId : undefined}
        onInput={(e) => props.onChange(e.currentTarget.value)}
      />
    </>
  );
}

/** A row of a list: what it is, a detail, and what can be done with it. */
export function Row(props: { title: string; detail: string; children: ComponentChildren }) {
  return (
    <li>
      <span>
        {props.title} <small>{props.detail}</small>
      </span>
      <span>{props.children}</span>
    </li>
  );
}

export function DeleteButton({ label, onDelete }: { label: string; onDelete: () => unknown }) {
  return (
    <button type="button" class="link" aria-label={label} onClick={() => void onDelete()}>
      Delete
    </button>
  );
}

/** A form's submit: the page stays, the work runs. */
export const submitted = (work: () => unknown) => (e: Event) => {
  e.preventDefault();
  void work();
};
