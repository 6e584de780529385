import { Inject, Injectable } from '@nestjs/common';
import { LOGGER, type AppLogger } from '../../common/logger';
import { AppConfig } from '../../config/config';
import { GowaGateway } from './gowa.gateway';
import { WahaGateway } from './waha.gateway';
import { maskPhone, type GatewayResult, type WhatsAppGateway } from './whatsapp.gateway';

/** The gateway `config.whatsapp` names, or null when WhatsApp is off (no provider). */
export function createWhatsAppGateway(config: AppConfig['whatsapp']): WhatsAppGateway | null {
  if (config.provider === null || config.baseUrl === null) {
    return null;
  }
  if (config.provider === 'waha') {
    return new WahaGateway({ baseUrl: config.baseUrl, apiKey: config.apiKey, session: config.session, timeoutMs: config.timeoutMs });
  }
  return new GowaGateway({ baseUrl: config.baseUrl, basicAuth: config.basicAuth, timeoutMs: config.timeoutMs });
}

/**
 * The only place that talks to the WhatsApp gateway (ALERTING.md §3): WAHA or GOWA as configured.
 * Logs failures with the phone number masked; never the text or the gateway's answer.
 */
@Injectable()
export class WhatsAppClient implements WhatsAppGateway {
  private readonly gateway: WhatsAppGateway | null;
  private readonly log: AppLogger;

  constructor(
    private readonly config: AppConfig,
    @Inject(LOGGER) logger: AppLogger,
  ) {
    this.gateway = createWhatsAppGateway(config.whatsapp);
    this.log = logger.child({ context: 'WhatsAppClient' });
  }

  get configured(): boolean {
    return this.gateway !== null;
  }

  async send(phoneE164: string, text: string): Promise<GatewayResult> {
    if (!this.gateway) {
      return { ok: false, status: null, error: 'WhatsApp is not configured', timedOut: false };
    }
    const started = performance.now();
    const result = await this.gateway.send(phoneE164, text);
    if (!result.ok) {
      this.log.warn(
        { provider: this.config.whatsapp.provider, phone: maskPhone(phoneE164), status: result.status, error: result.error, duration_ms: Math.round(performance.now() - started) },
        'WhatsApp gateway did not accept a message',
      );
    }
    return result;
  }
}
