import { GatewayHttp } from './gateway-http';
import { phoneDigits, type GatewayResult, type WhatsAppGateway } from './whatsapp.gateway';

export interface WahaOptions {
  baseUrl: string;
  /** sent as `X-Api-Key` when set */
  apiKey: string | null;
  session: string;
  timeoutMs: number;
}

/** WAHA (devlikeapro/waha): `POST {base}/api/sendText` `{"session","chatId":"<digits>@c.us","text"}`. */
export class WahaGateway implements WhatsAppGateway {
  private readonly http = new GatewayHttp();

  constructor(private readonly opts: WahaOptions) {}

  send(phoneE164: string, text: string): Promise<GatewayResult> {
    return this.http.post({
      url: `${this.opts.baseUrl.replace(/\/+$/, '')}/api/sendText`,
      headers: this.opts.apiKey ? { 'X-Api-Key': this.opts.apiKey } : {},
      body: { session: this.opts.session, chatId: `${phoneDigits(phoneE164)}@c.us`, text },
      timeoutMs: this.opts.timeoutMs,
    });
  }
}
