/** Messages: what a marketer writes. Pure. */
import type { TemplatePart } from './template.ts';

export interface MessageContent {
  subject: string;
  html: string;
  text: string | null;
}

export interface MessageSettings extends MessageContent {
  name: string;
  fromName: string;
  fromEmail: string;
}

export interface Message extends MessageSettings {
  id: string;
  createdAt: Date;
  updatedAt: Date;
}

/** The templates of a message, in the order they are validated and rendered. */
export function partsOf(content: MessageContent): TemplatePart[] {
  const parts: TemplatePart[] = [
    { field: 'subject', source: content.subject },
    { field: 'html', source: content.html },
  ];
  if (content.text !== null) parts.push({ field: 'text', source: content.text });
  return parts;
}
