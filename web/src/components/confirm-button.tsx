'use client';

/**
 * A button whose action asks once more: the first click shows "Confirm …" and "Keep" in its place.
 * `asking` and `onAsk` come from the page, so only one row at a time asks.
 */
export const ConfirmButton = ({
  label,
  confirmLabel,
  danger = false,
  asking,
  onAsk,
  onKeep,
  onConfirm,
}: {
  label: string;
  confirmLabel: string;
  danger?: boolean;
  asking: boolean;
  onAsk: () => void;
  onKeep: () => void;
  onConfirm: () => void;
}) => {
  const className = danger ? 'danger' : undefined;
  if (!asking)
    return (
      <button type="button" className={className} onClick={onAsk}>
        {label}
      </button>
    );
  return (
    <span className="confirm row">
      <button type="button" className={className} onClick={onConfirm}>
        {confirmLabel}
      </button>
      <button type="button" onClick={onKeep}>
        Keep
      </button>
    </span>
  );
};
