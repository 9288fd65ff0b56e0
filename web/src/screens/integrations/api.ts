import { request } from '../../api.ts';
import type { ShopifyDeliveryJson, ShopifyStatusJson } from '../../../../src/modules/integrations/model.ts';

export type DeliveryJson = ShopifyDeliveryJson;
export type ShopifyStatus = ShopifyStatusJson;

const base = (merchantId: string) => `/v1/merchants/${encodeURIComponent(merchantId)}/integrations/shopify`;

export const integrationsApi = {
  shopify: (merchantId: string) => request<ShopifyStatus>('GET', base(merchantId)),
  saveShopifySecret: (merchantId: string, webhookSecret: string) =>
    request<{ webhookUrl: string }>('PUT', base(merchantId), { webhookSecret }),
};
