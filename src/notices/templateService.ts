import type { Knex } from 'knex';
import { auditRepository } from '../audit/auditRepository';
import type { Clock } from '../lib/clock';
import { ForbiddenError, ValidationError } from '../lib/errors';
import type { Actor } from '../tenancy/actor';
import { defaultNextSteps, defaultTemplates, type NoticeTemplate } from './defaultTemplates';
import { noticeKinds, type NoticeKind } from './kinds';
import { sampleValues } from './noticeFacts';
import { noticeSettingsRepository, type NoticeSettings, type StoredNoticeSettings } from './noticeSettings';
import { checkTemplate, renderTemplate } from './templateRenderer';
import { noticeTemplateRepository, type EffectiveTemplate } from './templateRepository';

export const maxSubjectLength = 200;
export const maxBodyLength = 20_000;

/** Admin → Notices → Templates: the wording of each kind, a preview, reset, and the sender settings. */
export class NoticeTemplateService {
  constructor(
    private readonly db: Knex,
    private readonly clock: Clock,
  ) {}

  async all(actor: Actor): Promise<EffectiveTemplate[]> {
    this.mustBeAdmin(actor);
    return Promise.all(noticeKinds.map((kind) => noticeTemplateRepository.effective(this.db, kind)));
  }

  async get(actor: Actor, kind: NoticeKind): Promise<EffectiveTemplate> {
    this.mustBeAdmin(actor);
    return noticeTemplateRepository.effective(this.db, kind);
  }

  defaultOf(kind: NoticeKind): NoticeTemplate {
    return defaultTemplates[kind];
  }

  /** The template rendered with invented sample data and the settings in force (nothing is stored). */
  async preview(kind: NoticeKind, template: NoticeTemplate): Promise<NoticeTemplate> {
    const values = sampleValues(await noticeSettingsRepository.get(this.db), defaultNextSteps[kind], this.clock.now());
    return { subject: renderTemplate(template.subject, values).replace(/\s+/g, ' ').trim(), body: renderTemplate(template.body, values) };
  }

  /** Saves an edited template; unknown placeholders are a 422 naming them. Audited in the same transaction. */
  async save(actor: Actor, kind: NoticeKind, input: NoticeTemplate, ip: string | null = null): Promise<EffectiveTemplate> {
    this.mustBeAdmin(actor);
    const template = { subject: input.subject.trim(), body: input.body.replace(/\r\n/g, '\n') };
    const errors: Record<string, string> = {};
    if (!template.subject) errors.subject = 'is required';
    else if (template.subject.length > maxSubjectLength) errors.subject = `is too long (${template.subject.length} characters; at most ${maxSubjectLength})`;
    else if (/[\r\n]/.test(template.subject)) errors.subject = 'must be one line';
    if (!template.body.trim()) errors.body = 'is required';
    else if (template.body.length > maxBodyLength) errors.body = `is too long (${template.body.length} characters; at most ${maxBodyLength})`;
    if (Object.keys(errors).length) throw new ValidationError(errors);
    checkTemplate(template);
    const now = this.clock.now();
    await this.db.transaction(async (trx) => {
      const before = await noticeTemplateRepository.effective(trx, kind);
      await noticeTemplateRepository.save(trx, kind, template, actor.login, now);
      await auditRepository.append(
        trx,
        { actorUserId: actor.userId, actorLogin: actor.login, action: 'notice_template.update', subjectType: 'notice_template', subjectId: kind, data: { subject: template.subject, bodyChanged: before.body !== template.body, wasDefault: !before.customised }, ip },
        now,
      );
    });
    return noticeTemplateRepository.effective(this.db, kind);
  }

  /** Deletes the edit: the default text applies again. Audited; false when there was no edit. */
  async reset(actor: Actor, kind: NoticeKind, ip: string | null = null): Promise<boolean> {
    this.mustBeAdmin(actor);
    const now = this.clock.now();
    return this.db.transaction(async (trx) => {
      if (!(await noticeTemplateRepository.remove(trx, kind))) return false;
      await auditRepository.append(trx, { actorUserId: actor.userId, actorLogin: actor.login, action: 'notice_template.reset', subjectType: 'notice_template', subjectId: kind, ip }, now);
      return true;
    });
  }

  async settings(actor: Actor): Promise<StoredNoticeSettings> {
    this.mustBeAdmin(actor);
    return noticeSettingsRepository.get(this.db);
  }

  /** Provider name, abuse desk and appeal address; the caller validated the shapes (schemas.ts). Audited. */
  async saveSettings(actor: Actor, settings: NoticeSettings, ip: string | null = null): Promise<void> {
    this.mustBeAdmin(actor);
    const now = this.clock.now();
    await this.db.transaction(async (trx) => {
      await noticeSettingsRepository.save(trx, settings, actor.login, now);
      await auditRepository.append(trx, { actorUserId: actor.userId, actorLogin: actor.login, action: 'notice_settings.update', subjectType: 'settings', subjectId: 'notices', data: { ...settings }, ip }, now);
    });
  }

  private mustBeAdmin(actor: Actor): void {
    if (actor.role !== 'admin') throw new ForbiddenError('Only administrators edit notice templates.');
  }
}
