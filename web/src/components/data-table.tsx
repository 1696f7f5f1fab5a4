import type { ReactNode } from 'react';

/**
 * A list as a table, with its loading and empty states: `rows` null is still loading (unless
 * `failed`: the caller shows why), an empty list shows `empty`. `row` renders one `<tr>` with its key.
 */
export const DataTable = <T,>({
  rows,
  columns,
  testId,
  empty,
  emptyTestId,
  failed = false,
  row,
}: {
  rows: readonly T[] | null;
  /** Header labels; '' for a column without one. */
  columns: readonly string[];
  testId: string;
  empty: ReactNode;
  emptyTestId?: string;
  failed?: boolean;
  row: (item: T) => ReactNode;
}) => {
  if (rows === null) return failed ? null : <p className="muted">Loading…</p>;
  if (rows.length === 0)
    return (
      <p className="note-box" {...(emptyTestId && { 'data-testid': emptyTestId })}>
        {empty}
      </p>
    );
  return (
    <div className="table-wrap">
      <table className="grid" data-testid={testId}>
        <thead>
          <tr>{columns.map((c, i) => (c ? <th key={c}>{c}</th> : <th key={`col-${i}`} />))}</tr>
        </thead>
        <tbody>{rows.map(row)}</tbody>
      </table>
    </div>
  );
};
