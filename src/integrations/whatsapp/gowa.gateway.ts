import { GatewayHttp } from './gateway-http';
import { phoneDigits, type GatewayResult, type WhatsAppGateway } from './whatsapp.gateway';

export interface GowaOptions {
  baseUrl: string;
  /** `user:pass` for HTTP Basic, when set */
  basicAuth: string | null;
  timeoutMs: number;
}

/**
 * GOWA (aldinokemal2104/go-whatsapp-web-multidevice): `POST {base}/send/message`
 * `{"phone":"<digits>@s.whatsapp.net","message"}` with HTTP Basic auth.
 */
export class GowaGateway implements WhatsAppGateway {
  private readonly http = new GatewayHttp();

  constructor(private readonly opts: GowaOptions) {}

  send(phoneE164: string, text: string): Promise<GatewayResult> {
    const auth = this.opts.basicAuth;
    return this.http.post({
      url: `${this.opts.baseUrl.replace(/\/+$/, '')}/send/message`,
      headers: auth ? { Authorization: `Basic ${Buffer.from(auth, 'utf8').toString('base64')}` } : {},
      body: { phone: `${phoneDigits(phoneE164)}@s.whatsapp.net`, message: text },
      timeoutMs: this.opts.timeoutMs,
    });
  }
}
