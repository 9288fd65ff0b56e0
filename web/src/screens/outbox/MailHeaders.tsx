import type { MailDetail } from '../contacts/contactApi.ts';

/** The headers the mail goes out with beyond From, To and Subject (shown above): its Message-ID, then the extra ones (List-Unsubscribe, …). */
export function MailHeaders({ mail }: { mail: MailDetail }) {
  const rows: [string, string][] = [['Message-ID', mail.messageId], ...Object.entries(mail.headers)];
  return (
    <details className="mail-headers" open>
      <summary>Headers</summary>
      <table className="table compact" aria-label="Headers">
        <tbody>
          {rows.map(([name, value]) => (
            <tr key={name}>
              <th scope="row">{name}</th>
              <td>
                <code>{value}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}
