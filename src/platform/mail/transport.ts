import { readFileSync } from 'node:fs';
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
export type MailTransport = { kind: 'outbox' } | { kind: 'smtp'; send(mail: OutgoingMail): Promise<SendResult | void>; close(): void };

/** What the SMTP server answered to an accepted mail (kept with the mail, shown in the console). */
export interface SendResult {
  reply: string | null;
}

export interface DkimSettings {
  domain: string;
  selector: string;
  /** A PEM private key, or the path of a file holding one. */
  privateKey: string;
}

export interface SmtpOptions {
  /** Pooled SMTP connections kept open (MAIL_CONCURRENCY); 0 or unset: one connection per mail. */
  pool?: number | undefined;
  dkim?: DkimSettings | undefined;
}

/** A PEM given inline, or read from the file it names. */
export function readPrivateKey(value: string): string {
  return value.includes('-----BEGIN') ? value.replace(/\\n/g, '\n') : readFileSync(value, 'utf8');
}

/**
 * `SMTP_URL` as nodemailer reads it: smtp://user:pass@host:587, smtps://… for implicit TLS. With
 * `pool`, nodemailer keeps that many connections open and sends several mails over each; with
 * `dkim`, every mail is signed (relaxed/relaxed, the headers nodemailer signs by default). The rate
 * limit (MAIL_RATE_PER_SECOND) is the sender's (outbox/service.ts), so it holds pooled or not.
 */
export function smtpTransport(url: string, options: SmtpOptions = {}): MailTransport {
  const pooled = (options.pool ?? 0) > 0;
  const transporter = nodemailer.createTransport({
    url,
    ...(pooled && { pool: true, maxConnections: options.pool, maxMessages: Infinity }),
    ...(options.dkim && {
      dkim: { domainName: options.dkim.domain, keySelector: options.dkim.selector, privateKey: readPrivateKey(options.dkim.privateKey) },
    }),
  } as Parameters<typeof nodemailer.createTransport>[0]);
  return {
    kind: 'smtp',
    async send(mail) {
      const info = await transporter.sendMail({
        messageId: mail.messageId,
        from: { name: mail.from.name, address: mail.from.email },
        to: mail.to,
        subject: mail.subject,
        html: mail.html,
        ...(mail.text !== null ? { text: mail.text } : {}),
        ...(mail.headers ? { headers: mail.headers } : {}),
      });
      return { reply: typeof info.response === 'string' ? info.response : null };
    },
    close: () => transporter.close(),
  };
}

export function mailTransport(smtpUrl: string | undefined, options: SmtpOptions = {}): MailTransport {
  return smtpUrl ? smtpTransport(smtpUrl, options) : { kind: 'outbox' };
}
