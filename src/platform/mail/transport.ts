import nodemailer from 'nodemailer';

/** One mail as a transport sends it. */
export interface OutgoingMail {
  messageId: string;
  from: { name: string; email: string };
  to: string;
  subject: string;
  html: string;
  text: string | null;
  headers?: Record<string, string> | null;
}

/**
 * Where mail goes. `outbox` keeps it (the row in the outbox table is the mail, shown by the API and
 * the console, like a local mail catcher): nothing to deliver. `smtp` hands it to an SMTP server.
 */
export type MailTransport =
  | { kind: 'outbox' }
  | { kind: 'smtp'; send(mail: OutgoingMail): Promise<void>; close(): void };

/** `SMTP_URL` as nodemailer reads it: smtp://user:pass@host:587, smtps://… for implicit TLS. */
export function smtpTransport(url: string): MailTransport {
  const transporter = nodemailer.createTransport(url);
  return {
    kind: 'smtp',
    async send(mail) {
      await transporter.sendMail({
        messageId: mail.messageId,
        from: { name: mail.from.name, address: mail.from.email },
        to: mail.to,
        subject: mail.subject,
        html: mail.html,
        ...(mail.text !== null ? { text: mail.text } : {}),
        ...(mail.headers ? { headers: mail.headers } : {}),
      });
    },
    close: () => transporter.close(),
  };
}

export function mailTransport(smtpUrl: string | undefined): MailTransport {
  return smtpUrl ? smtpTransport(smtpUrl) : { kind: 'outbox' };
}
