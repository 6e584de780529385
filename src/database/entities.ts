import { Alert } from '../alerts/alert.entity';
import { RefreshToken } from '../auth/refresh-token.entity';
import { CarbonLog } from '../carbon/carbon-log.entity';
import { Notification } from '../notifications/notification.entity';
import { Camera } from '../sites/camera.entity';
import { Organization } from '../sites/organization.entity';
import { Zone } from '../sites/zone.entity';
import { User } from '../users/user.entity';

export const ENTITIES = [User, Organization, Zone, Camera, Alert, Notification, CarbonLog, RefreshToken];
