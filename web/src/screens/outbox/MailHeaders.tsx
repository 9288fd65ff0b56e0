import type { MailDetail } from '../contacts/contactApi.ts';

/** The headers the mail goes out with: the ones every mail has, then its extra ones (List-Unsubscribe, …). */
export function MailHeaders({ mail }: { mail: MailDetail }) {
  const rows: [string, string][] = [
    ['Message-ID', mail.messageId],
    ['From', `${mail.from.name} <${mail.from.email}>`],
    ['To', mail.to],
    ['Subject', mail.subject],
    ...Object.entries(mail.headers),
  ];
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
