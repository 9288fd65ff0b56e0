import { request } from '../../api.ts';
import type { ShopifyDelivery } from '../../../../src/modules/integrations/model.ts';

/** ShopifyDelivery as JSON (times as ISO strings). */
export type DeliveryJson = Omit<ShopifyDelivery, 'receivedAt'> & { receivedAt: string };

export interface ShopifyStatus {
  configured: boolean;
  updatedAt: string | null;
  webhookUrl: string;
  deliveries: DeliveryJson[];
}

const base = (merchantId: string) => `/v1/merchants/${encodeURIComponent(merchantId)}/integrations/shopify`;

export const integrationsApi = {
  shopify: (merchantId: string) => request<ShopifyStatus>('GET', base(merchantId)),
  saveShopifySecret: (merchantId: string, webhookSecret: string) =>
    request<{ webhookUrl: string }>('PUT', base(merchantId), { webhookSecret }),
};
