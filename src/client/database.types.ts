
export type Json = string | number | boolean | null | { [key: string]: Json | undefined } | Json[]

export type Database = {
  
  "public": {
          Tables: {
            "ai_cache": {
                  Row: {
                    "cache_key": string,"cache_type": string,"cached_result": NonNullable<Json>,"company_id": string | null,"completion_tokens": number,"cost_usd": number,"created_at": string,"expires_at": string,"hit_count": number,"id": number,"key_version": number,"last_hit_at": string | null,"model": string,"prompt_tokens": number,"request": Json | null,"total_tokens": number | null
                  }
                  ComputedFields: never
                  Insert: {
                    "cache_key": string,"cache_type": string,"cached_result": NonNullable<Json>,"company_id"?: string | null,"completion_tokens"?: number,"cost_usd"?: number,"created_at"?: string,"expires_at": string,"hit_count"?: number,"id"?: never,"key_version"?: number,"last_hit_at"?: string | null,"model": string,"prompt_tokens"?: number,"request"?: Json | null,"total_tokens"?: never
                  }
                  Update: {
                    "cache_key"?: string,"cache_type"?: string,"cached_result"?: NonNullable<Json>,"company_id"?: string | null,"completion_tokens"?: number,"cost_usd"?: number,"created_at"?: string,"expires_at"?: string,"hit_count"?: number,"id"?: never,"key_version"?: number,"last_hit_at"?: string | null,"model"?: string,"prompt_tokens"?: number,"request"?: Json | null,"total_tokens"?: never
                  }
                  Relationships: [
                    
                  ]
                },"ai_cache_policies": {
                  Row: {
                    "cache_type": string,"company_id": string | null,"created_at": string,"enabled": boolean,"id": number,"scope": string,"ttl_seconds": number,"updated_at": string
                  }
                  ComputedFields: never
                  Insert: {
                    "cache_type": string,"company_id"?: string | null,"created_at"?: string,"enabled"?: boolean,"id"?: never,"scope"?: string,"ttl_seconds": number,"updated_at"?: string
                  }
                  Update: {
                    "cache_type"?: string,"company_id"?: string | null,"created_at"?: string,"enabled"?: boolean,"id"?: never,"scope"?: string,"ttl_seconds"?: number,"updated_at"?: string
                  }
                  Relationships: [
                    
                  ]
                },"ai_cache_stats_daily": {
                  Row: {
                    "cache_type": string,"company_id": string | null,"cost_saved_usd": number,"day": string,"hits": number,"id": number,"misses": number,"tokens_saved": number,"uncached_calls": number,"uncached_cost_usd": number,"uncached_tokens": number,"upstream_calls": number,"upstream_cost_usd": number,"upstream_errors": number,"upstream_tokens": number
                  }
                  ComputedFields: never
                  Insert: {
                    "cache_type": string,"company_id"?: string | null,"cost_saved_usd"?: number,"day": string,"hits"?: number,"id"?: never,"misses"?: number,"tokens_saved"?: number,"uncached_calls"?: number,"uncached_cost_usd"?: number,"uncached_tokens"?: number,"upstream_calls"?: number,"upstream_cost_usd"?: number,"upstream_errors"?: number,"upstream_tokens"?: number
                  }
                  Update: {
                    "cache_type"?: string,"company_id"?: string | null,"cost_saved_usd"?: number,"day"?: string,"hits"?: number,"id"?: never,"misses"?: number,"tokens_saved"?: number,"uncached_calls"?: number,"uncached_cost_usd"?: number,"uncached_tokens"?: number,"upstream_calls"?: number,"upstream_cost_usd"?: number,"upstream_errors"?: number,"upstream_tokens"?: number
                  }
                  Relationships: [
                    
                  ]
                },"ai_conversations": {
                  Row: {
                    "company_id": string,"context_type": string,"created_at": string,"id": string,"is_archived": boolean,"last_message_at": string | null,"message_count": number,"title": string | null,"updated_at": string,"user_id": string
                  }
                  ComputedFields: never
                  Insert: {
                    "company_id": string,"context_type"?: string,"created_at"?: string,"id"?: string,"is_archived"?: boolean,"last_message_at"?: string | null,"message_count"?: number,"title"?: string | null,"updated_at"?: string,"user_id"?: string
                  }
                  Update: {
                    "company_id"?: string,"context_type"?: string,"created_at"?: string,"id"?: string,"is_archived"?: boolean,"last_message_at"?: string | null,"message_count"?: number,"title"?: string | null,"updated_at"?: string,"user_id"?: string
                  }
                  Relationships: [
                    
                  ]
                },"ai_messages": {
                  Row: {
                    "content": string,"conversation_id": string,"created_at": string,"from_cache": boolean,"id": string,"metadata": NonNullable<Json>,"model": string | null,"role": string,"seq": number,"tokens_used": number | null
                  }
                  ComputedFields: never
                  Insert: {
                    "content": string,"conversation_id": string,"created_at"?: string,"from_cache"?: boolean,"id"?: string,"metadata"?: NonNullable<Json>,"model"?: string | null,"role": string,"seq"?: never,"tokens_used"?: number | null
                  }
                  Update: {
                    "content"?: string,"conversation_id"?: string,"created_at"?: string,"from_cache"?: boolean,"id"?: string,"metadata"?: NonNullable<Json>,"model"?: string | null,"role"?: string,"seq"?: never,"tokens_used"?: number | null
                  }
                  Relationships: [
                    {
      foreignKeyName: "ai_messages_conversation_id_fkey"
      columns: ["conversation_id"]
isOneToOne: false
      referencedRelation: "ai_conversations"
      referencedColumns: ["id"]
    }
                  ]
                },"company_members": {
                  Row: {
                    "company_id": string,"created_at": string,"role": string,"user_id": string
                  }
                  ComputedFields: never
                  Insert: {
                    "company_id": string,"created_at"?: string,"role"?: string,"user_id": string
                  }
                  Update: {
                    "company_id"?: string,"created_at"?: string,"role"?: string,"user_id"?: string
                  }
                  Relationships: [
                    
                  ]
                }
          }
          Views: {
            [_ in never]: never
          }
          Functions: {
            "assert_member":
{ Args: { "p_company_id": string,"p_user_id": string }; Returns: undefined
                           },
"cache_lookup":
{ Args: { "p_cache_key": string,"p_cache_type": string,"p_company_id": string,"p_lease_ms"?: number,"p_lease_owner"?: string,"p_max_age_seconds"?: number }; Returns: Json
                           },
"cache_lookup_guarded":
{ Args: { "p_cache"?: Json,"p_company_id": string,"p_member_user_id"?: string,"p_rate_limit"?: Json }; Returns: Json
                           },
"cache_peek":
{ Args: { "p_cache_key": string,"p_company_id": string,"p_max_age_seconds"?: number }; Returns: Json
                           },
"cache_poll":
{ Args: { "p_cache_key": string,"p_cache_type": string,"p_company_id": string,"p_lease_ms"?: number,"p_lease_owner"?: string,"p_max_age_seconds"?: number }; Returns: Json
                           },
"cache_record_call":
{ Args: { "p_cache_type": string,"p_company_id": string,"p_completion_tokens": number,"p_cost_usd": number,"p_prompt_tokens": number }; Returns: undefined
                           },
"cache_record_spend":
{ Args: { "p_cache_key"?: string,"p_cache_type": string,"p_company_id": string,"p_completion_tokens": number,"p_cost_usd": number,"p_lease_owner"?: string,"p_prompt_tokens": number }; Returns: Json
                           },
"cache_release_lease":
{ Args: { "p_cache_key": string,"p_cache_type"?: string,"p_company_id": string,"p_error"?: boolean,"p_lease_owner": string }; Returns: undefined
                           },
"cache_renew_lease":
{ Args: { "p_cache_key": string,"p_company_id": string,"p_lease_ms": number,"p_lease_owner": string }; Returns: string
                           },
"cache_store":
{ Args: { "p_cache_key": string,"p_cache_type": string,"p_company_id": string,"p_completion_tokens": number,"p_cost_usd": number,"p_key_version"?: number,"p_lease_owner"?: string,"p_model": string,"p_prompt_tokens": number,"p_request": Json,"p_result": Json,"p_ttl_seconds": number }; Returns: Json
                           },
"cache_store_many":
{ Args: { "p_cache_type": string,"p_company_id": string,"p_items": Json,"p_key_version"?: number,"p_model": string,"p_ttl_seconds": number }; Returns: number
                           },
"chat_history":
{ Args: { "p_company_id": string,"p_conversation_id": string,"p_limit"?: number,"p_user_id": string }; Returns: Json
                           },
"chat_turn":
{ Args: { "p_cache"?: Json,"p_company_id": string,"p_context_type": string,"p_conversation_id": string,"p_history_limit"?: number,"p_idempotency"?: Json,"p_message": string,"p_request_key"?: string,"p_user_id": string }; Returns: Json
                           },
"chat_turn_complete":
{ Args: { "p_company_id": string,"p_content": string,"p_context_type": string,"p_conversation_id": string,"p_from_cache": boolean,"p_idempotency"?: Json,"p_metadata"?: Json,"p_model": string,"p_response"?: Json,"p_store"?: Json,"p_tokens_used": number,"p_uncached_call"?: Json,"p_user_id": string,"p_user_message": string }; Returns: Json
                           },
"chat_turn_release":
{ Args: { "p_company_id": string,"p_idempotency": Json,"p_user_id": string }; Returns: undefined
                           },
"cleanup_expired_cache":
{ Args: { "p_batch_size"?: number }; Returns: number
                           },
"count_cache_entries":
{ Args: { "p_cache_type"?: string,"p_company_id"?: string,"p_expired_only"?: boolean,"p_global_only"?: boolean,"p_key_version"?: number,"p_model"?: string,"p_older_than_seconds"?: number }; Returns: number
                           },
"delete_cache_batch":
{ Args: { "p_all"?: boolean,"p_batch_size"?: number,"p_cache_type"?: string,"p_company_id"?: string,"p_expired_only"?: boolean,"p_global_only"?: boolean,"p_key_version"?: number,"p_model"?: string,"p_older_than_seconds"?: number }; Returns: number
                           },
"delete_cache_policy":
{ Args: { "p_cache_type": string,"p_company_id": string }; Returns: boolean
                           },
"gateway_cache_lookup":
{ Args: { "p_cache_type": string,"p_company_id": string,"p_company_key": string,"p_global_key": string,"p_lease_ms"?: number,"p_lease_owner"?: string,"p_lookup"?: boolean,"p_max_age_seconds"?: number,"p_user_id": string }; Returns: Json
                           },
"gateway_cache_lookup_many":
{ Args: { "p_cache_type": string,"p_company_id": string,"p_company_keys": (string)[],"p_global_keys": (string)[],"p_lookup"?: boolean,"p_max_age_seconds"?: number,"p_user_id": string }; Returns: Json
                           },
"get_cache_dashboard":
{ Args: { "p_company_id": string,"p_days"?: number,"p_top"?: number }; Returns: Json
                           },
"get_cache_metrics":
{ Args: Record<PropertyKey, never>; Returns: Json
                           },
"get_cache_policies":
{ Args: { "p_company_id": string }; Returns: {
              "cache_type": string,"enabled": boolean,"scope": string,"source": string,"ttl_seconds": number
            }[]
                           },
"get_cache_stats":
{ Args: { "p_company_id"?: string }; Returns: Json
                           },
"get_cache_stats_by_company":
{ Args: { "p_limit"?: number }; Returns: Json
                           },
"get_conversation_stats":
{ Args: { "p_company_id": string }; Returns: Json
                           },
"get_conversation_with_messages":
{ Args: { "p_conversation_id": string }; Returns: Json
                           },
"get_dashboard_companies":
{ Args: Record<PropertyKey, never>; Returns: Json
                           },
"get_top_cache_entries":
{ Args: { "p_cache_type"?: string,"p_company_id"?: string,"p_global_only"?: boolean,"p_limit"?: number,"p_prompt_chars"?: number }; Returns: Json
                           },
"increment_cache_hit_count":
{ Args: { "p_cache_id": number }; Returns: number
                           },
"purge_company_cache":
{ Args: { "p_cache_type"?: string,"p_company_id": string,"p_model"?: string }; Returns: number
                           },
"rate_limit_take":
{ Args: { "p_bucket": string,"p_capacity": number,"p_cost"?: number,"p_refill_per_second": number }; Returns: Json
                           },
"set_cache_policy":
{ Args: { "p_cache_type": string,"p_company_id": string,"p_enabled"?: boolean,"p_scope"?: string,"p_ttl_seconds": number }; Returns: {
              "cache_type": string,
"company_id": string | null,
"created_at": string,
"enabled": boolean,
"id": number,
"scope": string,
"ttl_seconds": number,
"updated_at": string
            }
                          SetofOptions: {
        from: "*"
        to: "ai_cache_policies"
        isOneToOne: true
        isSetofReturn: false
      } }
          }
          Enums: {
            [_ in never]: never
          }
          CompositeTypes: {
            [_ in never]: never
          }
        }
}

type DatabaseWithoutInternals = Omit<Database, '__InternalSupabase'>

type DefaultSchema = DatabaseWithoutInternals[Extract<keyof Database, "public">]

export type Tables<
  DefaultSchemaTableNameOrOptions extends
    | keyof (DefaultSchema["Tables"] & DefaultSchema["Views"])
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof (DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"] &
        DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Views"])
    : never = never
> = DefaultSchemaTableNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? (DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"] &
      DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Views"])[TableName] extends {
      Row: infer R
    }
    ? R
    : never
  : DefaultSchemaTableNameOrOptions extends keyof (DefaultSchema["Tables"] & DefaultSchema["Views"])
  ? (DefaultSchema["Tables"] & DefaultSchema["Views"])[DefaultSchemaTableNameOrOptions] extends {
      Row: infer R
    }
    ? R
    : never
  : never

export type TablesInsert<
  DefaultSchemaTableNameOrOptions extends
    | keyof DefaultSchema["Tables"]
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"]
    : never = never
> = DefaultSchemaTableNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"][TableName] extends {
      Insert: infer I
    }
    ? I
    : never
  : DefaultSchemaTableNameOrOptions extends keyof DefaultSchema["Tables"]
  ? DefaultSchema["Tables"][DefaultSchemaTableNameOrOptions] extends {
      Insert: infer I
    }
    ? I
    : never
  : never

export type TablesUpdate<
  DefaultSchemaTableNameOrOptions extends
    | keyof DefaultSchema["Tables"]
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"]
    : never = never
> = DefaultSchemaTableNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"][TableName] extends {
      Update: infer U
    }
    ? U
    : never
  : DefaultSchemaTableNameOrOptions extends keyof DefaultSchema["Tables"]
  ? DefaultSchema["Tables"][DefaultSchemaTableNameOrOptions] extends {
      Update: infer U
    }
    ? U
    : never
  : never

export type Enums<
  DefaultSchemaEnumNameOrOptions extends
    | keyof DefaultSchema["Enums"]
    | { schema: keyof DatabaseWithoutInternals },
  EnumName extends DefaultSchemaEnumNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaEnumNameOrOptions["schema"]]["Enums"]
    : never = never
> = DefaultSchemaEnumNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? DatabaseWithoutInternals[DefaultSchemaEnumNameOrOptions["schema"]]["Enums"][EnumName]
  : DefaultSchemaEnumNameOrOptions extends keyof DefaultSchema["Enums"]
  ? DefaultSchema["Enums"][DefaultSchemaEnumNameOrOptions]
  : never

export type CompositeTypes<
  PublicCompositeTypeNameOrOptions extends
    | keyof DefaultSchema["CompositeTypes"]
    | { schema: keyof DatabaseWithoutInternals },
  CompositeTypeName extends PublicCompositeTypeNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[PublicCompositeTypeNameOrOptions["schema"]]["CompositeTypes"]
    : never = never
> = PublicCompositeTypeNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? DatabaseWithoutInternals[PublicCompositeTypeNameOrOptions["schema"]]["CompositeTypes"][CompositeTypeName]
  : PublicCompositeTypeNameOrOptions extends keyof DefaultSchema["CompositeTypes"]
  ? DefaultSchema["CompositeTypes"][PublicCompositeTypeNameOrOptions]
  : never

export const Constants = {
  "public": {
          Enums: {
            
          }
        }
} as const
