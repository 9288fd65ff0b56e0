/** Messages: what a marketer writes. Pure. */
import { z } from 'zod';
import type { FieldType } from './snippets.ts';

export type TemplateField = 'subject' | 'html' | 'text';

export interface TemplatePart {
  field: TemplateField;
  source: string;
}

export interface FieldCatalog {
  groups: { name: string; fields: { name: string; type: FieldType }[] }[];
}

export interface TemplateIssue {
  field: TemplateField;
  line: number;
  column?: number;
  message: string;
}

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

// ---------------------------------------------------------------------------------------------
// The API's answers (routes.ts serializes them; the console reads them: web/src/api.ts)

export const messageOut = z.object({
  id: z.string(),
  name: z.string(),
  fromName: z.string(),
  fromEmail: z.string(),
  subject: z.string(),
  html: z.string(),
  text: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type MessageJson = z.infer<typeof messageOut>;
/** A message's preview: its templates rendered for one contact. */
export const renderedOut = z.object({ subject: z.string(), html: z.string(), text: z.string() });
export type RenderedJson = z.infer<typeof renderedOut>;
