import { Injectable } from '@nestjs/common';
import axios, { AxiosInstance } from 'axios';
import { AppConfig } from '../../config/config';

/**
 * The only place that knows the crowd-prediction detector's HTTP shape (spec §9).
 * Services call `crowd.count(...)`; they never see axios.
 */
@Injectable()
export class CrowdPredictionClient {
  private readonly http: AxiosInstance;

  constructor(private readonly config: AppConfig) {
    this.http = axios.create({ validateStatus: () => true, maxRedirects: 0 });
  }

  get configured(): boolean {
    return this.config.crowd.predictUrl !== null;
  }

  /** `GET <origin>/health`: any 2xx means up. Throws otherwise. */
  async health(timeoutMs: number): Promise<void> {
    const url = new URL('/health', this.config.crowd.predictUrl ?? 'http://invalid').toString();
    const res = await this.http.get(url, { timeout: timeoutMs, signal: AbortSignal.timeout(timeoutMs), responseType: 'text', maxContentLength: 64 * 1024 });
    if (res.status < 200 || res.status > 299) {
      throw new Error(`crowd health answered ${res.status}`);
    }
  }
}
