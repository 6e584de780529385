import { ApiProperty } from '@nestjs/swagger';

export class NotificationDto {
  @ApiProperty({ example: 1 }) id!: number;
  @ApiProperty({ example: 'Maintenance tonight' }) title!: string;
  @ApiProperty({ example: 'Cameras in the east wing restart at 22:00.' }) message!: string;
  @ApiProperty({ example: '2026-11-22T19:07:00.123Z' }) created_at!: string;
}

export class NotificationInputDto {
  @ApiProperty({ maxLength: 255 }) title!: string;
  @ApiProperty({ description: 'not blank' }) message!: string;
}
